/**
 * What every scheduling benchmark runs: one ZooKeeper server (fsync on, a
 * production server's JVM flags; its own, or one shared by every run of
 * bench:compare, see support/shared-zookeeper.ts) and the services as real child
 * processes started from their TypeScript sources (test/support), plus the
 * counters a report needs (ZooKeeper's own, CPU per process).
 *
 * With `profileDir`, every service can record a V8 CPU profile of an interval
 * (`startProfiles`/`stopProfiles`, see support/cpu-profiler-preload.js).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase } from '@app/audit/testing';
import type { AppName, AppProcess } from '../../test/support/app-process';
import { LocalCluster } from '../../test/support/local-cluster';
import type { WatchedProcess } from './process-cpu';
import { closeHttpClient, sendRequest } from './http-client';
import { readConnections, type ConnectionCounters } from './zk-connections';
import { sharedZooKeeper, startBenchZooKeeper, type BenchZooKeeper } from './shared-zookeeper';
import { readZkCounters, type ZkCounters } from './zk-counters';

export interface BenchClusterOptions {
  /** ZK_SESSION_TIMEOUT_MS of every service. */
  sessionTimeoutMs: number;
  /** Environment of every service (WORKER_CAPACITY, SCHEDULER_…). */
  env?: Record<string, string>;
  /** ZooKeeper JVM heap (MB); benchmarks keep every task and audit event in it. */
  zkHeapMb?: number;
  /** Write V8 CPU profiles of the services here. */
  profileDir?: string;
  /**
   * Seconds of ZooKeeper requests from a session of the benchmark's own before
   * any service starts (support/store-warmup.ts); 0 or unset: a cold server.
   */
  storeWarmupS?: number;
  /** Run the services compiled (`npm run build` first), as in production, not from sources. */
  compiled?: boolean;
  log?: (line: string) => void;
}

export class BenchCluster {
  readonly schedulers: AppProcess[] = [];
  readonly workers: AppProcess[] = [];
  /** Registries (audit drain, retention), when a benchmark starts them. */
  readonly registries: AppProcess[] = [];

  private constructor(
    readonly server: BenchZooKeeper,
    readonly cluster: LocalCluster,
    private readonly options: BenchClusterOptions,
    /** The services' audit database (see `benchDatabase`). */
    readonly database: BenchDatabase,
    /** The server serves other runs too (support/shared-zookeeper.ts). */
    private readonly shared: boolean,
  ) {}

  /** Starts the ZooKeeper server only; services come with `startServices`/`add`. */
  static async start(options: BenchClusterOptions): Promise<BenchCluster> {
    const log = options.log ?? (() => undefined);
    // A shared server was warmed once, by whoever started it.
    const shared = sharedZooKeeper();
    if (shared) log(`using the shared ZooKeeper at ${shared.connectString}…`);
    const server =
      shared ??
      (await startBenchZooKeeper(options.zkHeapMb ?? 512, options.storeWarmupS ?? 0, log));
    if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
    const database = await benchDatabase();
    const cluster = new LocalCluster({
      connectString: server.connectString,
      ...(options.compiled ? { entries: compiledEntries() } : {}),
      sessionTimeoutMs: options.sessionTimeoutMs,
      env: {
        DATABASE_URL: database.url,
        ...options.env,
        ...(options.profileDir
          ? {
              NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profiler-preload.js')}`,
              BENCH_CPU_PROFILE_DIR: options.profileDir,
            }
          : {}),
      },
    });
    return new BenchCluster(server, cluster, options, database, shared !== undefined);
  }

  /** Starts `schedulers` schedulers (the first one leads), then `workers` workers. */
  async startServices(schedulers: number, workers: number): Promise<void> {
    this.options.log?.(`starting ${schedulers} scheduler(s) and ${workers} worker(s)…`);
    for (let i = 0; i < schedulers; i++) await this.add('scheduler');
    await this.cluster.leader(60_000);
    await Promise.all(Array.from({ length: workers }, () => this.add('worker')));
    await this.waitForWorkers(workers);
  }

  async add(app: AppName, env: Record<string, string> = {}): Promise<AppProcess> {
    const started = await this.cluster.start(app, env);
    const list = { scheduler: this.schedulers, worker: this.workers, registry: this.registries };
    list[app].push(started);
    return started;
  }

  /** Until `count` worker member nodes are registered. */
  async waitForWorkers(count: number): Promise<void> {
    const zk = await this.cluster.zk();
    const deadline = Date.now() + 60_000;
    while ((await zk.children('/members/workers')).children.length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} workers registered`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The processes whose CPU a report shows: ZooKeeper first, then the live services. */
  watched(): WatchedProcess[] {
    return [
      { name: 'zookeeper (JVM)', pid: this.server.pid! },
      ...[...this.schedulers, ...this.workers, ...this.registries]
        .filter((p) => p.isRunning)
        .map((p) => ({ name: p.memberId, pid: p.pid })),
    ];
  }

  /** Warnings and errors in the recent output of each service (pino levels ≥ 40). */
  warnings(): Record<string, string[]> {
    const result: Record<string, string[]> = {};
    for (const p of this.cluster.processes) {
      const lines = p.output.split('\n').filter((line) => /"level":(4|5|6)0/.test(line));
      if (lines.length > 0) result[p.memberId] = lines.map((line) => line.slice(0, 300));
    }
    return result;
  }

  counters(): Promise<ZkCounters> {
    return readZkCounters(this.server.host, this.server.port);
  }

  connections(): Promise<ConnectionCounters> {
    return readConnections(this.server.host, this.server.port);
  }

  /** Starts a CPU profile in every live service (with `profileDir` only). */
  startProfiles(): void {
    if (!this.options.profileDir) return;
    for (const p of this.cluster.processes) if (p.isRunning) process.kill(p.pid, 'SIGWINCH');
  }

  /** Stops the profiles and waits until each service has written its file; returns the paths. */
  async stopProfiles(): Promise<string[]> {
    const dir = this.options.profileDir;
    if (!dir) return [];
    const live = this.cluster.processes.filter((p) => p.isRunning);
    const before = new Set(readdirSync(dir));
    for (const p of live) process.kill(p.pid, 'SIGWINCH');
    const deadline = Date.now() + 60_000;
    let done: string[] = [];
    while (Date.now() < deadline) {
      done = readdirSync(dir).filter((name) => name.endsWith('.done') && !before.has(name));
      if (done.length >= live.length) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const profiles = done.map((name) => join(dir, name.replace(/\.done$/, '.cpuprofile')));
    this.options.log?.(`CPU profiles: ${profiles.join(' ')}`);
    return profiles;
  }

  /** Ends the services (on a shared ZooKeeper, with SIGTERM first), then stops ZooKeeper unless it is shared. */
  async close(): Promise<void> {
    closeHttpClient();
    if (this.shared) {
      // Stopped as in production, closing their sessions: killed, they would
      // expire during the next run on the same server.
      const running = this.cluster.processes.filter((p) => p.isRunning);
      await Promise.all(running.map((p) => p.signal('SIGTERM').catch(() => undefined)));
    }
    await this.cluster.close();
    await this.server.close();
    await this.database.drop();
  }
}

/** The compiled entry of each service; throws when `npm run build` has not made them. */
function compiledEntries(): Record<AppName, string> {
  const root = join(__dirname, '..', '..');
  const entries = {} as Record<AppName, string>;
  for (const app of ['scheduler', 'worker', 'registry'] as const) {
    const main = join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
    entries[app] = main;
  }
  return entries;
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * PostgreSQL for the services' audit history (the scheduler's readiness waits
 * for it; bench:e2e runs a registry that drains the outbox into it):
 * BENCH_DATABASE_URL or DATABASE_URL as given (kept), else a fresh database
 * on the development server (127.0.0.1:5432, trust auth), dropped at the end.
 * Fresh, as the peers' harness starts each run from an empty queue: an audit
 * history left by earlier runs (millions of rows, beyond PostgreSQL's buffers)
 * made every later run's drain dearer than the one before.
 */
export async function benchDatabase(): Promise<BenchDatabase> {
  const given = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  if (given !== undefined) return { url: given, drop: async () => undefined };
  const fresh = await createTestDatabase('zks_bench');
  return { url: fresh.url, drop: fresh.drop };
}

/** A JSON request to a service's HTTP API; a non-2xx answer throws with its body. */
export async function request<T>(
  process: AppProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const { status, text } = await sendRequest(process.url(path), method, body);
  if (status < 200 || status >= 300) {
    throw new Error(`${method} ${path}: ${status} ${text.slice(0, 500)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Sum of a Prometheus counter/gauge over every label set, from a `/metrics` text. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** ZooKeeper requests a service has sent so far (its `zks_zookeeper_requests_total`), by operation. */
export async function zkRequestsOf(process: AppProcess): Promise<Record<string, number>> {
  const text = await (await fetch(process.url('/metrics'))).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^zks_zookeeper_requests_total\{op="(\w+)"\} (\d+)$/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}
