import { OpenAclError } from './errors';
import { normaliseRoot } from './paths';
import type { ZkAclEntry } from './types';

/**
 * Where a ZkClient's nodes live: the hosts and root a connect string plus a
 * `root` option name, the translation between the paths callers use (relative
 * to that root) and the absolute ones on the wire, path validation, and the
 * refusal of a root left open to every client. Kept apart from the session
 * machinery because none of it depends on a connection.
 */

/** Splits `host:port,…/chroot` into the hosts and the absolute root `root` nests under it. */
export function resolveRoot(
  connectString: string,
  root: string | undefined,
): { hosts: string; root: string } {
  // A chroot in the connect string (`host:port/chroot`) nests the root under it.
  const slash = connectString.indexOf('/');
  const hosts = slash < 0 ? connectString : connectString.slice(0, slash);
  const chroot = slash < 0 ? '/' : normaliseRoot(connectString.slice(slash));
  const nested = normaliseRoot(root);
  return { hosts, root: chroot === '/' ? nested : nested === '/' ? chroot : chroot + nested };
}

/** Paths relative to `root` ↔ absolute paths. */
export class RootedPaths {
  constructor(readonly root: string) {}

  absolute(path: string): string {
    if (this.root === '/') return path;
    return path === '/' ? this.root : this.root + path;
  }

  relative(path: string): string {
    if (this.root === '/') return path;
    if (path === this.root) return '/';
    return path.startsWith(`${this.root}/`) ? path.slice(this.root.length) : path;
  }
}

/** Why `path` is not a valid znode path, or undefined when it is. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'path must start with /';
  if (path.length > 1 && path.endsWith('/')) return 'path must not end with /';
  if (path.includes('//')) return 'path has an empty segment';
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return 'path has a relative segment';
  return undefined;
}

/**
 * The error for a node whose ACL opens it to every client (`world:anyone` holds
 * any permission), or undefined when it is closed. `absolute` names the node.
 */
export function openAclProblem(
  acl: readonly ZkAclEntry[],
  absolute: string,
): OpenAclError | undefined {
  if (!acl.some((entry) => entry.scheme === 'world' && entry.perms !== 0)) return undefined;
  return new OpenAclError(
    `ZooKeeper node ${absolute} is open to every client (world:anyone) although this client authenticates: ` +
      'it was created before authentication or by someone else; close it (zkCli.sh, authenticated: setAcl -R <node> auth::cdrwa) or use a fresh root',
  );
}
