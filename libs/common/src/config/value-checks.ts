import { isIP } from 'node:net';
// Pure checks for the string-shaped configuration values. Each returns a reason
// (completing "<VARIABLE> …") when the value is wrong, or undefined when it is fine,
// so the same code serves validation messages and the parsers.

const ZNODE_PATH_HINT = 'an absolute znode path such as /zk-scheduler';

/** A znode path: `/a/b`, no empty, `.` or `..` segments, no trailing slash. */
export function znodePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `must be ${ZNODE_PATH_HINT}`;
  if (path === '/') return `must be ${ZNODE_PATH_HINT} below the root /`;
  if (path.endsWith('/')) return 'must not end with /';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'must not contain an empty path segment (//)';
    if (segment === '.' || segment === '..') return 'must not contain . or .. segments';
  }
  if (path === '/zookeeper' || path.startsWith('/zookeeper/')) {
    return 'must not be under /zookeeper, which ZooKeeper reserves';
  }
  return undefined;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;

/** `host[:port][,host[:port]…][/chroot]`, as the ZooKeeper clients accept it. */
export function zkConnectProblem(value: string): string | undefined {
  const slash = value.indexOf('/');
  const hosts = slash === -1 ? value : value.slice(0, slash);
  const chroot = slash === -1 ? undefined : value.slice(slash);
  for (const entry of hosts.split(',')) {
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.trim());
    const host = match?.[1] ?? '';
    const port = match?.[2];
    if (!HOST.test(host)) {
      return `must be host:port[,host:port…][/chroot]; "${entry}" is not a valid server address`;
    }
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
      return `has port ${port} out of range 1–65535`;
    }
  }
  if (chroot !== undefined) {
    const problem = znodePathProblem(chroot);
    if (problem !== undefined) return `has a chroot that ${problem}`;
  }
  return undefined;
}

/** Label syntax shared by WORKER_LABELS and job selectors. */
export const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export type LabelParseResult =
  | { readonly ok: true; readonly labels: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly problem: string };

/** Parses `key=value,key2=value2` (blank = no labels). Keys are unique. */
export function parseLabels(value: string): LabelParseResult {
  const labels: Record<string, string> = {};
  if (value.trim() === '') return { ok: true, labels };
  for (const item of value.split(',')) {
    const pair = item.trim();
    if (pair === '') return { ok: false, problem: 'has an empty entry (a stray comma?)' };
    const eq = pair.indexOf('=');
    if (eq === -1) return { ok: false, problem: `must be key=value,…; "${pair}" has no =` };
    const key = pair.slice(0, eq).trim();
    const labelValue = pair.slice(eq + 1).trim();
    if (!LABEL_KEY.test(key)) {
      return {
        ok: false,
        problem: `has an invalid key "${key}" (letters, digits, . _ / -; at most 63 characters)`,
      };
    }
    if (!LABEL_VALUE.test(labelValue)) {
      return {
        ok: false,
        problem: `has an invalid value "${labelValue}" for ${key} (letters, digits, . _ -; at most 63 characters)`,
      };
    }
    if (Object.hasOwn(labels, key)) return { ok: false, problem: `repeats the key "${key}"` };
    labels[key] = labelValue;
  }
  return { ok: true, labels };
}

/** A PostgreSQL connection URL. The value itself is never echoed (it may hold a password). */
export function postgresUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL such as postgres://user@127.0.0.1:5432/zk_scheduler';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `must use the postgres:// or postgresql:// scheme, not ${url.protocol}//`;
  }
  return undefined;
}

/** `user:password` for ZooKeeper's digest scheme. The value itself is never echoed. */
export function zkAuthProblem(value: string): string | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) return 'must be user:password (digest scheme)';
  if (/\s/.test(value)) return 'must not contain whitespace';
  return undefined;
}

/** A guessable token is no protection: at least this many characters (API_TOKEN and token files alike). */
export const MIN_TOKEN_LENGTH = 16;

export function apiTokenProblem(value: string): string | undefined {
  if (/\s/.test(value)) return 'must not contain whitespace';
  if (value.length < MIN_TOKEN_LENGTH) return `must be at least ${MIN_TOKEN_LENGTH} characters`;
  return undefined;
}

/** A DNS name or an IP address literal (no port, no scheme). */
export function advertisedHostProblem(value: string): string | undefined {
  if (isIP(value) !== 0) return undefined;
  const labels = value.split('.');
  const valid =
    value.length <= 253 &&
    labels.every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
  return valid ? undefined : 'must be a host name or an IP address (no port, no scheme)';
}

/** An address to listen on: an IP literal (`127.0.0.1`, `::1`, `0.0.0.0`) or a host name. */
export function bindHostProblem(value: string): string | undefined {
  return advertisedHostProblem(value) === undefined
    ? undefined
    : 'must be an IP address such as 127.0.0.1 or ::, or a host name (no port, no brackets)';
}

/** A member id becomes a znode name and a URL segment: keep it plain. */
export function memberIdProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value)) {
    return 'must be 1-100 letters, digits, dots, dashes or underscores, starting with a letter or digit';
  }
  return undefined;
}
