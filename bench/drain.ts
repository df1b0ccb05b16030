/**
 * Audit drain throughput: how fast the registry's drain (OutboxDrainer, the
 * code the draining registry runs) moves events from a pre-filled
 * `/audit/outbox` into PostgreSQL and deletes the drained nodes.
 *
 *   npm run bench:drain                 (node -r @swc-node/register bench/drain.ts)
 *   npm run bench:drain -- --events 200000 --per-node 1,20,200
 *
 * For each outbox shape (events per node: 1 is one change per transaction,
 * the scheduler's batched writes put tens to hundreds in one node) it fills
 * the outbox of a fresh cluster root with `--events` synthetic events, then
 * times the drain from its start until every event is committed and the
 * outbox is empty, with fencing (an elected LeaderElection) as in production.
 *
 * ZooKeeper: a TestingServer with fsync on. PostgreSQL: a fresh database on
 * the shared server (127.0.0.1:5432, or PG_TEST_URL) with its own settings
 * (fsync on by default), or, with `--pg throwaway` or when the shared server
 * is not there, a TestingPostgres started durable (fsync on).
 *
 * Prints a table, then ONE JSON line `{"bench":"drain",...}` last.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import { LeaderElection, ZkClient } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import { outboxOp } from '@app/store';
import { AuditDatabase, TypeOrmAuditStore, type AuditStore } from '@app/audit';
import { createTestDatabase, TestingPostgres } from '@app/audit/testing';
import {
  DEFAULT_REGISTRY_SETTINGS,
  type RegistrySettings,
} from '../apps/registry/src/config/registry-settings';
import { DrainMetrics } from '../apps/registry/src/audit-drain/drain-metrics';
import { OutboxDrainer } from '../apps/registry/src/audit-drain/outbox-drainer';

interface Options {
  events: number;
  perNode: number[];
  pg: 'shared' | 'throwaway';
  /** Batch bound in nodes (default: the registry's, REGISTRY_DRAIN_BATCH_NODES). */
  batchNodes: number;
}

interface RunResult {
  perNode: number;
  events: number;
  nodes: number;
  fillSeconds: number;
  drainSeconds: number;
  eventsPerSecond: number;
  nodesPerSecond: number;
  batches: number;
  eventsPerBatch: number;
  appendMs: { p50: number; p99: number; max: number };
  appendShare: number;
  stored: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    events: 100_000,
    perNode: [1, 20, 200],
    pg: 'shared',
    batchNodes: DEFAULT_REGISTRY_SETTINGS.batchNodes,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--events') options.events = positive(flag, value);
    else if (flag === '--per-node')
      options.perNode = value.split(',').map((v) => positive(flag, v));
    else if (flag === '--pg' && (value === 'shared' || value === 'throwaway')) options.pg = value;
    else if (flag === '--batch-nodes') options.batchNodes = positive(flag, value);
    else
      throw new Error(
        `unknown argument ${argv[i]} (--events N, --per-node a,b,c, --batch-nodes N, --pg shared|throwaway)`,
      );
  }
  return options;
}

function positive(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer (got ${raw})`);
  return value;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const round = (value: number, digits = 1): number =>
  Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Synthetic events shaped like the scheduler's: each task's life in four events
 * (created, assigned, started, succeeded), tasks interleaved as under load.
 */
function makeEvents(count: number): AuditEvent[] {
  const now = Date.now();
  const types = ['task.created', 'task.assigned', 'task.started', 'task.succeeded'] as const;
  const inFlight = 64;
  const tasks = Array.from({ length: Math.ceil(count / 4) }, () => ({ id: randomUUID(), next: 0 }));
  const events: AuditEvent[] = [];
  let cursor = 0;
  while (events.length < count) {
    // Round-robin over a window of tasks: their events interleave like concurrent work.
    const window = tasks.slice(cursor, cursor + inFlight);
    for (const task of window) {
      if (events.length >= count || task.next >= 4) continue;
      const type = types[task.next++];
      events.push({
        id: randomUUID(),
        time: now + events.length,
        type,
        taskId: task.id,
        ...(type === 'task.created' ? {} : { workerId: `worker-${events.length % 8}`, attempt: 1 }),
        actor: `scheduler/bench/4242`,
        detail:
          type === 'task.succeeded' ? { state: 'succeeded', durationMs: 3 } : { type: 'noop' },
      });
    }
    while (cursor < tasks.length && tasks[cursor].next >= 4) cursor++;
  }
  return events;
}

/** Fills the outbox in order: multis of up to 100 nodes and ~800 kB, a few in flight. */
async function fillOutbox(zk: ZkClient, events: AuditEvent[], perNode: number): Promise<number> {
  const nodes: AuditEvent[][] = [];
  for (let i = 0; i < events.length; i += perNode) nodes.push(events.slice(i, i + perNode));
  const approxBytes = JSON.stringify(nodes[0]).length;
  const perMulti = Math.max(1, Math.min(100, Math.floor(800_000 / approxBytes)));
  // One multi at a time keeps the node order equal to the event order.
  for (let i = 0; i < nodes.length; i += perMulti) {
    await zk.multi(nodes.slice(i, i + perMulti).map((chunk) => outboxOp(chunk)));
  }
  return nodes.length;
}

/** Times each append: PostgreSQL's share of the drain. */
function timedStore(store: AuditStore, samples: number[]): AuditStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'append') return Reflect.get(target, property, receiver) as unknown;
      return async (events: readonly AuditEvent[]) => {
        const started = performance.now();
        const fresh = await target.append(events);
        samples.push(performance.now() - started);
        return fresh;
      };
    },
  });
}

async function run(
  server: TestingServer,
  databaseUrl: string,
  events: number,
  perNode: number,
  settings: RegistrySettings,
): Promise<RunResult> {
  const root = `/bench-drain-${randomUUID()}`;
  const zk = new ZkClient({ connectString: server.connectString, root, sessionTimeoutMs: 10_000 });
  await zk.start();
  await zk.mkdirp(ZkLayout.outbox);
  await zk.mkdirp(ZkLayout.registryElection);
  const database = new AuditDatabase({ url: databaseUrl });
  database.start();
  await database.whenReady();
  const election = new LeaderElection(zk, { path: ZkLayout.registryElection, id: 'bench' });
  const elected = election.next('elected');
  await election.start();
  await elected;

  const all = makeEvents(events);
  const fillStarted = performance.now();
  const nodes = await fillOutbox(zk, all, perNode);
  const fillSeconds = (performance.now() - fillStarted) / 1000;

  const appendSamples: number[] = [];
  const store = timedStore(
    new TypeOrmAuditStore(database.dataSource, { assertReady: () => database.assertReady() }),
    appendSamples,
  );
  let committed = 0;
  let done!: () => void;
  const allCommitted = new Promise<void>((resolve) => (done = resolve));
  const drainer = new OutboxDrainer({
    client: zk,
    store,
    commit: (ops) => election.fencedMulti(ops),
    settings,
    metrics: new DrainMetrics(new Registry()),
    logger: {
      log: () => undefined,
      warn: (m, c) => console.warn(m, c),
      error: (m, c) => console.error(m, c),
    },
    onCommitted: (batch) => {
      committed += batch.length;
      if (committed >= events) done();
    },
  });
  const started = performance.now();
  drainer.start();
  await allCommitted;
  await timing.waitFor(async () => (await zk.exists(ZkLayout.outbox))?.numChildren === 0, {
    timeoutMs: 120_000,
    intervalMs: 5,
  });
  const drainSeconds = (performance.now() - started) / 1000;
  await drainer.stop();

  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const stored = Number(
    (await client.query<{ n: string }>('SELECT count(*) AS n FROM audit_events')).rows[0].n,
  );
  await client.query('TRUNCATE audit_events, task_history');
  await client.end();
  await election.close();
  await database.close();
  await zk.close();

  const sorted = [...appendSamples].sort((a, b) => a - b);
  const appendTotal = appendSamples.reduce((sum, ms) => sum + ms, 0);
  return {
    perNode,
    events,
    nodes,
    fillSeconds: round(fillSeconds, 2),
    drainSeconds: round(drainSeconds, 2),
    eventsPerSecond: Math.round(events / drainSeconds),
    nodesPerSecond: Math.round(nodes / drainSeconds),
    batches: appendSamples.length,
    eventsPerBatch: Math.round(events / Math.max(1, appendSamples.length)),
    appendMs: {
      p50: round(percentile(sorted, 0.5)),
      p99: round(percentile(sorted, 0.99)),
      max: round(sorted.at(-1) ?? 0),
    },
    appendShare: round(appendTotal / 1000 / drainSeconds, 2),
    stored,
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const settings: RegistrySettings = {
    ...DEFAULT_REGISTRY_SETTINGS,
    batchNodes: options.batchNodes,
  };
  const server = await TestingServer.start({ forceSync: true, heapMb: 512 });
  let throwaway: TestingPostgres | undefined;
  let drop: (() => Promise<void>) | undefined;
  let databaseUrl: string;
  let pg: string;
  try {
    if (options.pg === 'shared') {
      const database = await createTestDatabase('zk_bench_drain');
      databaseUrl = database.url;
      drop = () => database.drop();
      pg = 'shared server';
    } else throw new Error('throwaway asked');
  } catch {
    throwaway = await TestingPostgres.start({ durable: true });
    databaseUrl = await throwaway.createDatabase('bench_drain');
    pg = `throwaway (TestingPostgres, durable, port ${throwaway.port})`;
  }
  const results: RunResult[] = [];
  try {
    for (const perNode of options.perNode) {
      process.stderr.write(`drain: ${options.events} events, ${perNode} per node…\n`);
      const result = await run(server, databaseUrl, options.events, perNode, settings);
      if (result.stored !== options.events) {
        throw new Error(`stored ${result.stored} events, expected ${options.events}`);
      }
      results.push(result);
    }
  } finally {
    await drop?.();
    await throwaway?.close();
    await server.close();
  }

  const header = [
    'events/node',
    'nodes',
    'drain s',
    'events/s',
    'nodes/s',
    'batches',
    'events/batch',
    'append p50 ms',
    'append p99 ms',
    'PG share',
  ];
  const rows = results.map((r) => [
    String(r.perNode),
    String(r.nodes),
    String(r.drainSeconds),
    r.eventsPerSecond.toLocaleString('en-US'),
    r.nodesPerSecond.toLocaleString('en-US'),
    String(r.batches),
    String(r.eventsPerBatch),
    String(r.appendMs.p50),
    String(r.appendMs.p99),
    `${Math.round(r.appendShare * 100)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const limits = settings;
  process.stdout.write(
    [
      `Audit drain: ${options.events.toLocaleString('en-US')} events per run, ZooKeeper fsync on, PostgreSQL ${pg}`,
      `batches of at most ${limits.batchNodes} nodes / ${limits.batchEvents} events / ${limits.batchBytes} bytes (at least one node)`,
      '',
      line(header),
      widths.map((w) => '-'.repeat(w)).join('  '),
      ...rows.map(line),
      '',
      JSON.stringify({ bench: 'drain', postgres: pg, limits, runs: results }),
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:drain failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
