/**
 * Validation of the names a group is built from (its path, a member id):
 * ZooKeeper's own rules, checked up front so a bad name fails with a clear
 * TypeError at construction rather than at the first write. Shared by
 * GroupView and GroupMembership.
 */

// ZooKeeper refuses these in a path (PathUtils.validatePath).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/;

/** Throws unless `name` is one valid znode name (no '/', not '.' or '..', no control characters). */
export function validateNodeName(name: string, what = 'znode name'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`invalid ${what}: must be a non-empty string`);
  }
  if (name.includes('/')) throw new TypeError(`invalid ${what} '${name}': must not contain '/'`);
  if (name === '.' || name === '..') throw new TypeError(`invalid ${what} '${name}'`);
  if (FORBIDDEN_CHARACTERS.test(name)) {
    throw new TypeError(`invalid ${what} ${JSON.stringify(name)}: control or reserved character`);
  }
  return name;
}

/** Throws unless `path` is an absolute znode path other than '/' (no trailing slash). */
export function validateGroupPath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path === '/' || path.endsWith('/')) {
    throw new TypeError(
      `invalid group path '${String(path)}': must be absolute, not '/', no trailing '/'`,
    );
  }
  for (const segment of path.slice(1).split('/')) validateNodeName(segment, `segment of '${path}'`);
  return path;
}
