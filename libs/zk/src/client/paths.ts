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
  // By hand, not a regular expression: change-log followers parse every name of
  // listings of thousands of notes.
  const start = name.length - SEQUENCE_DIGITS;
  if (start < 0) throw new Error(`not a sequential node name: ${name}`);
  let value = 0;
  for (let i = start; i < name.length; i++) {
    const digit = name.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) throw new Error(`not a sequential node name: ${name}`);
    value = value * 10 + digit;
  }
  return value;
}

/** ZooKeeper's sequence suffix: ten digits, zero-padded. */
const SEQUENCE_DIGITS = 10;

/** Sorts sequential node names by their sequence number, not by prefix. */
export function sortBySequence(names: readonly string[]): string[] {
  return [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b));
}
