/**
 * Raw ZooKeeper baseline, measured through our own client (`ZkClient`): what the
 * scheduler's coordination can at best achieve on this machine. Later end-to-end
 * benchmarks run `measureZkBaseline()` in their own process and report ratios.
 *
 *   npm run bench:zk          (node -r @swc-node/register bench/zk-baseline.ts)
 *
 * Measures, against one ZooKeeper server with fsync on (like production):
 * - pipelined creates/s: N creates with a window of W outstanding;
 * - multi of 100 creates: batches/s and ops/s, one batch at a time and pipelined;
 * - serial round trips: p50/p99 of `exists` (a read) and of a small `set` (a write);
 * - LeaderElection failover for each session timeout: after a clean `close()` of
 *   the leader, and after `kill -9` of a leader running in a child process (from
 *   the kill to `elected` in this process). The killed leader had just won its
 *   election, so its session was touched moments before the kill: this is the
 *   worst case, about one session timeout (the server expires a session one
 *   timeout after it last heard from it, rounded up to a tick). A leader idle
 *   since its last ping (every timeout / 3) is replaced up to a third sooner.
 *
 * Prints a table, then ONE JSON line `{"bench":"zk-baseline",...}` last.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LeaderElection, Op, ZkClient, type ZkOp } from '@app/zk';
import { FixtureProcess, TestingServer, type TestingServerOptions } from '@app/zk/testing';
import type { FailoverLeaderMessage } from './fixtures/failover-leader';
import { serverJvmOptions } from './support/server-jvm';

export interface ZkBaselineOptions {
  /** Measure an existing server instead of starting one (its nodes are removed afterwards). */
  connectString?: string;
  /** Options of the server started when no connectString is given. */
  server?: TestingServerOptions;
  /** Pipelined creates (default 20 000) and how many may be outstanding (default 1 000). */
  creates?: number;
  window?: number;
  /** Multi batches (default 200 of 100 creates), and how many are outstanding when pipelined. */
  multiBatches?: number;
  multiSize?: number;
  multiWindow?: number;
  /** Serial `exists` round trips (default 2 000) and serial `set`s (default 500). */
  roundTrips?: number;
  serialSets?: number;
  /** Session timeouts for the failover measurements (default 2 000 and 10 000 ms). */
  sessionTimeoutsMs?: readonly number[];
  /** Repetitions per session timeout (defaults 5 for close, 3 for kill -9). */
  closeRepetitions?: number;
  killRepetitions?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface Distribution {
  min: number;
  median: number;
  max: number;
  samples: number[];
}

export interface Percentiles {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ZkBaseline {
  bench: 'zk-baseline';
  server: { connectString: string; startedHere: boolean; forceSync: boolean | null; jvm: string };
  pipelinedCreates: { count: number; window: number; seconds: number; perSecond: number };
  multiSerial: MultiResult;
  multiPipelined: MultiResult;
  roundTrip: { exists: Percentiles; set: Percentiles };
  failover: FailoverResult[];
}

export interface MultiResult {
  batches: number;
  batchSize: number;
  window: number;
  seconds: number;
  batchesPerSecond: number;
  opsPerSecond: number;
}

export interface FailoverResult {
  sessionTimeoutMs: number;
  /** Negotiated by the server: what the expiry really waits for. */
  negotiatedSessionTimeoutMs: number;
  /** Leader calls `close()` → successor emits `elected` (ms). */
  cleanClose: Distribution;
  /** `kill -9` of the leader's process → successor emits `elected` (ms). */
  kill9: Distribution;
}

const FIXTURE = join(__dirname, 'fixtures', 'failover-leader.ts');
const CLIENT_SESSION_TIMEOUT_MS = 10_000;
const PAYLOAD = Buffer.from('0123456789abcdef');
const BASELINE_HEAP_MB = 256;

export async function measureZkBaseline(options: ZkBaselineOptions = {}): Promise<ZkBaseline> {
  const log = options.log ?? (() => undefined);
  const heapMb = options.server?.heapMb ?? BASELINE_HEAP_MB;
  const serverOptions: TestingServerOptions = {
    heapMb,
    jvmOptions: serverJvmOptions(heapMb),
    ...options.server,
  };
  let server: TestingServer | undefined;
  if (options.connectString === undefined) {
    log('starting a ZooKeeper server (fsync on)…');
    server = await TestingServer.start(serverOptions);
  }
  const connectString = options.connectString ?? (server as TestingServer).connectString;
  const root = `/bench-${randomUUID()}`;
  const client = new ZkClient({ connectString, root, sessionTimeoutMs: CLIENT_SESSION_TIMEOUT_MS });
  await client.start();
  try {
    const pipelinedCreates = await measurePipelinedCreates(
      client,
      options.creates ?? 20_000,
      options.window ?? 1_000,
      log,
    );
    const multiBatches = options.multiBatches ?? 200;
    const multiSize = options.multiSize ?? 100;
    const multiSerial = await measureMulti(
      client,
      '/multi-serial',
      multiBatches,
      multiSize,
      1,
      log,
    );
    const multiPipelined = await measureMulti(
      client,
      '/multi-pipelined',
      multiBatches,
      multiSize,
      options.multiWindow ?? 10,
      log,
    );
    const roundTrip = await measureRoundTrips(
      client,
      options.roundTrips ?? 2_000,
      options.serialSets ?? 500,
      log,
    );
    const failover: FailoverResult[] = [];
    for (const sessionTimeoutMs of options.sessionTimeoutsMs ?? [2_000, 10_000]) {
      failover.push(
        await measureFailover(connectString, root, sessionTimeoutMs, {
          closeRepetitions: options.closeRepetitions ?? 5,
          killRepetitions: options.killRepetitions ?? 3,
          log,
        }),
      );
    }
    if (server === undefined) {
      await removeTree(client, '/', log);
      await client.delete('/');
    }
    return {
      bench: 'zk-baseline',
      server: {
        connectString,
        startedHere: server !== undefined,
        forceSync: server !== undefined ? serverOptions.forceSync !== false : null,
        jvm:
          server !== undefined
            ? `-Xmx${serverOptions.heapMb}m ${(serverOptions.jvmOptions ?? []).join(' ')}`.trim()
            : 'external',
      },
      pipelinedCreates,
      multiSerial,
      multiPipelined,
      roundTrip,
      failover,
    };
  } finally {
    await client.close();
    await server?.close();
  }
}

// ---- throughput ----------------------------------------------------------------------

/** Runs `total` operations with at most `window` outstanding; resolves with the elapsed ms. */
async function pipelined(
  total: number,
  window: number,
  operation: (index: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (next < total && failure === undefined) {
      const index = next++;
      try {
        await operation(index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(window, total) }, lane));
  const elapsed = performance.now() - started;
  if (failure !== undefined) throw failure;
  return elapsed;
}

async function measurePipelinedCreates(
  client: ZkClient,
  count: number,
  window: number,
  log: (line: string) => void,
): Promise<ZkBaseline['pipelinedCreates']> {
  // Both JITs (the server's C2, V8) need thousands of requests before the numbers settle.
  await client.mkdirp('/warmup');
  await pipelined(Math.min(10_000, count), window, (i) => client.create(`/warmup/w${i}`, PAYLOAD));
  await client.mkdirp('/creates');
  log(`pipelined creates: ${count} with ${window} outstanding…`);
  const ms = await pipelined(count, window, (i) => client.create(`/creates/c${i}`, PAYLOAD));
  return { count, window, seconds: ms / 1_000, perSecond: round((count * 1_000) / ms) };
}

async function measureMulti(
  client: ZkClient,
  parent: string,
  batches: number,
  batchSize: number,
  window: number,
  log: (line: string) => void,
): Promise<MultiResult> {
  await client.mkdirp(parent);
  log(`multi: ${batches} batches of ${batchSize} creates, ${window} outstanding…`);
  const ms = await pipelined(batches, window, (batch) => {
    const ops: ZkOp[] = [];
    for (let i = 0; i < batchSize; i++) ops.push(Op.create(`${parent}/b${batch}-${i}`, PAYLOAD));
    return client.multi(ops);
  });
  return {
    batches,
    batchSize,
    window,
    seconds: ms / 1_000,
    batchesPerSecond: round((batches * 1_000) / ms),
    opsPerSecond: round((batches * batchSize * 1_000) / ms),
  };
}

async function measureRoundTrips(
  client: ZkClient,
  reads: number,
  writes: number,
  log: (line: string) => void,
): Promise<ZkBaseline['roundTrip']> {
  await client.create('/rt', PAYLOAD);
  log(`serial round trips: ${reads} exists, ${writes} set…`);
  const time = async (count: number, operation: () => Promise<unknown>): Promise<number[]> => {
    for (let i = 0; i < Math.min(200, count); i++) await operation(); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await operation();
      samples.push(performance.now() - started);
    }
    return samples;
  };
  const exists = await time(reads, () => client.exists('/rt'));
  const set = await time(writes, () => client.set('/rt', PAYLOAD));
  return { exists: percentiles(exists), set: percentiles(set) };
}

// ---- leader failover -------------------------------------------------------------------

interface FailoverSettings {
  closeRepetitions: number;
  killRepetitions: number;
  log: (line: string) => void;
}

async function measureFailover(
  connectString: string,
  benchRoot: string,
  sessionTimeoutMs: number,
  settings: FailoverSettings,
): Promise<FailoverResult> {
  const root = `${benchRoot}/failover-${sessionTimeoutMs}`;
  const clients: ZkClient[] = [];
  const elections: LeaderElection[] = [];
  const children: FixtureProcess<FailoverLeaderMessage, never>[] = [];
  const newClient = async (): Promise<ZkClient> => {
    const client = new ZkClient({ connectString, root, sessionTimeoutMs });
    clients.push(client);
    await client.start();
    return client;
  };
  /** A started candidate and the moment (performance.now) it is elected. */
  const candidate = async (client: ZkClient, id: string) => {
    const election = new LeaderElection(client, { path: '/election', id });
    elections.push(election);
    const elected = new Promise<number>((resolve) =>
      election.once('elected', () => resolve(performance.now())),
    );
    await election.start();
    return { election, elected };
  };
  try {
    const [clientA, clientB] = [await newClient(), await newClient()];
    const negotiatedSessionTimeoutMs = clientA.sessionTimeoutMs;

    settings.log(
      `failover, session ${sessionTimeoutMs} ms: ${settings.closeRepetitions} × close()…`,
    );
    const cleanClose: number[] = [];
    let leader = await candidate(clientA, 'a');
    await leader.elected;
    for (let i = 0; i < settings.closeRepetitions; i++) {
      const successor = await candidate(i % 2 === 0 ? clientB : clientA, `r${i}`);
      const started = performance.now();
      await leader.election.close();
      cleanClose.push(
        (await withTimeout(successor.elected, sessionTimeoutMs, 'successor elected')) - started,
      );
      leader = successor;
    }
    await leader.election.close();

    settings.log(
      `failover, session ${sessionTimeoutMs} ms: ${settings.killRepetitions} × kill -9…`,
    );
    const kill9: number[] = [];
    const spawnLeader = (n: number): FixtureProcess<FailoverLeaderMessage, never> => {
      const child = FixtureProcess.spawn<FailoverLeaderMessage, never>(FIXTURE, {
        env: {
          ZK_CONNECT: connectString,
          ZK_ROOT: root,
          SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
          CANDIDATE_ID: `child-${n}`,
        },
      });
      children.push(child);
      return child;
    };
    const startupMs = 30_000;
    let child = spawnLeader(0);
    await child.waitFor((m) => m.kind === 'elected', startupMs);
    for (let i = 0; i < settings.killRepetitions; i++) {
      // The successor waits behind the child; the next child (spawned during the wait) behind it.
      const successor = await candidate(clientB, `k${i}`);
      const killedAt = performance.now();
      const exited = child.kill('SIGKILL');
      const next = i + 1 < settings.killRepetitions ? spawnLeader(i + 1) : undefined;
      const electedAt = await withTimeout(
        successor.elected,
        negotiatedSessionTimeoutMs + 10_000,
        'successor elected after kill -9',
      );
      kill9.push(electedAt - killedAt);
      await exited;
      if (next) await next.waitFor((m) => m.kind === 'started', startupMs);
      await successor.election.close();
      if (next) {
        await next.waitFor((m) => m.kind === 'elected', startupMs);
        child = next;
      }
    }
    return {
      sessionTimeoutMs,
      negotiatedSessionTimeoutMs,
      cleanClose: distribution(cleanClose),
      kill9: distribution(kill9),
    };
  } finally {
    await Promise.all(children.map((child) => child.kill('SIGKILL')));
    await Promise.all(elections.map((election) => election.close()));
    await Promise.all(clients.map((client) => client.close()));
  }
}

// ---- helpers ---------------------------------------------------------------------------

/** Deletes everything under `path` (children first), pipelined. */
async function removeTree(
  client: ZkClient,
  path: string,
  log: (line: string) => void,
): Promise<void> {
  log('removing the benchmark nodes…');
  const postOrder: string[] = [];
  const walk = async (node: string): Promise<void> => {
    const { children } = await client.children(node);
    for (const child of children) await walk(node === '/' ? `/${child}` : `${node}/${child}`);
    postOrder.push(node);
  };
  await walk(path);
  // Parents come after their children in post-order; delete depth by depth, deepest first.
  const depth = (node: string): number => (node === '/' ? 0 : node.split('/').length - 1);
  const byDepth = new Map<number, string[]>();
  for (const node of postOrder) {
    if (node === '/') continue;
    const nodes = byDepth.get(depth(node)) ?? [];
    nodes.push(node);
    byDepth.set(depth(node), nodes);
  }
  for (const d of [...byDepth.keys()].sort((a, b) => b - a)) {
    const nodes = byDepth.get(d) ?? [];
    await pipelined(nodes.length, 500, (i) => client.delete(nodes[i]));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    count: sorted.length,
    meanMs: round(mean, 3),
    p50Ms: round(at(0.5), 3),
    p99Ms: round(at(0.99), 3),
    maxMs: round(sorted[sorted.length - 1], 3),
  };
}

function distribution(samples: readonly number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    min: round(sorted[0], 1),
    median: round(median, 1),
    max: round(sorted[sorted.length - 1], 1),
    samples: samples.map((value) => round(value, 1)),
  };
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The human-readable report. */
export function formatZkBaseline(result: ZkBaseline): string {
  const rows: Array<[string, string]> = [];
  const { pipelinedCreates: p, multiSerial: ms, multiPipelined: mp, roundTrip: rt } = result;
  rows.push([
    `pipelined creates (${p.count}, window ${p.window})`,
    `${p.perSecond.toLocaleString('en-US')} creates/s`,
  ]);
  for (const m of [ms, mp]) {
    rows.push([
      `multi of ${m.batchSize} creates (${m.batches} batches, window ${m.window})`,
      `${m.batchesPerSecond.toLocaleString('en-US')} batches/s = ${m.opsPerSecond.toLocaleString('en-US')} ops/s`,
    ]);
  }
  for (const [name, stats] of [
    ['exists', rt.exists],
    ['set', rt.set],
  ] as const) {
    rows.push([
      `serial ${name} round trip (${stats.count})`,
      `p50 ${stats.p50Ms} ms, p99 ${stats.p99Ms} ms, mean ${stats.meanMs} ms, max ${stats.maxMs} ms`,
    ]);
  }
  for (const f of result.failover) {
    const session = `session ${f.sessionTimeoutMs} ms (negotiated ${f.negotiatedSessionTimeoutMs})`;
    const show = (d: Distribution): string =>
      `min ${d.min} / median ${d.median} / max ${d.max} ms (n=${d.samples.length})`;
    rows.push([`failover after close(), ${session}`, show(f.cleanClose)]);
    rows.push([`failover after kill -9, ${session}`, show(f.kill9)]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  const server = result.server;
  return [
    `ZooKeeper baseline via ZkClient — server ${server.connectString} (fsync ${server.forceSync === null ? 'unknown' : server.forceSync ? 'on' : 'off'}, JVM ${server.jvm})`,
    ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const result = await measureZkBaseline({
    connectString: process.env.ZK_CONNECT,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatZkBaseline(result)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
