/** Znode path helpers. Paths are absolute ('/a/b'), without a trailing slash. */

export function joinPath(parent: string, ...children: string[]): string {
  let result = parent === '/' ? '' : parent;
  for (const child of children) result += `/${child}`;
  return result === '' ? '/' : result;
}

export function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Normalises a root: '' and '/' mean no root; otherwise '/a/b' without trailing slash. */
export function normaliseRoot(root: string | undefined): string {
  if (root === undefined || root === '' || root === '/') return '/';
  if (!root.startsWith('/')) throw new Error(`ZooKeeper root must start with '/': ${root}`);
  const trimmed = root.replace(/\/+$/, '');
  if (trimmed.includes('//')) throw new Error(`ZooKeeper root has an empty segment: ${root}`);
  return trimmed;
}

/** The sequence number ZooKeeper appended to a sequential node's name. */
export function sequenceOf(name: string): number {
  const digits = /(\d{10})$/.exec(name);
  if (!digits) throw new Error(`not a sequential node name: ${name}`);
  return Number(digits[1]);
}

/** Sorts sequential node names by their sequence number, not by prefix. */
export function sortBySequence(names: readonly string[]): string[] {
  return [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b));
}
