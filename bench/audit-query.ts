/**
 * Audit history in PostgreSQL: query latency on a table of one million events,
 * the plan of each query (it must use an index), and `append` throughput.
 *
 *   npm run bench:audit      (node -r @swc-node/register bench/audit-query.ts)
 *   npm run bench:audit -- --events 200000 --runs 100
 *
 * 1. A throwaway PostgreSQL (TestingPostgres, durable: fsync on, like
 *    production), migrated by AuditDatabase: the very schema and indexes of
 *    libs/audit/src/migrations.
 * 2. Loads N events (default 1,000,000) with big multi-row inserts (`unnest`
 *    of 10,000 rows per statement), the secondary indexes dropped during the
 *    load and re-created from their own definitions, then VACUUM ANALYZE. The
 *    events look like a week of a busy cluster: ~170,000 tasks of 500 cron
 *    jobs and one-off submissions on 40 workers, each task 4 to 9 events
 *    (retries, reassignments, cancellations), leader/worker/job events among
 *    them, in time order with a little jitter (the drain inserts slightly out
 *    of time order).
 * 3. For each filter of `GET /v1/audit` (the store's own SQL,
 *    auditQueryStatement), first page and a page deep inside the result (with
 *    a cursor): `runs` queries with random parameters through
 *    TypeOrmAuditStore.query, p50/p99 in ms; and EXPLAIN (ANALYZE, BUFFERS) of
 *    one of them.
 * 4. `append` of new task events in batches of 100 and 1,000 (each batch one
 *    transaction, folding into task_history), events/s.
 *
 * Prints the plans, a table, then ONE JSON line `{"bench":"audit-query",...}`.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AuditEvent, AuditEventType } from '@app/contracts';
import { AuditDatabase, auditQueryStatement, TypeOrmAuditStore, type AuditQuery } from '@app/audit';
import { TestingPostgres } from '@app/audit/testing';

interface Options {
  events: number;
  runs: number;
  appendBatches: number;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { events: 1_000_000, runs: 200, appendBatches: 30 };
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = [argv[i], Number(argv[i + 1])];
    const key = { '--events': 'events', '--runs': 'runs', '--append-batches': 'appendBatches' }[
      name
    ] as keyof Options | undefined;
    if (!key || !Number.isInteger(value) || value < 1) {
      throw new Error(`usage: audit-query [--events N] [--runs N] [--append-batches N]`);
    }
    options[key] = value;
    i += 1;
  }
  return options;
}

// ---- data ------------------------------------------------------------------------

/** Deterministic: the same table at every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JOBS = 500;
const WORKERS = 40;
const WEEK_MS = 7 * 24 * 3600 * 1000;
const START = Date.UTC(2026, 0, 5);

interface Generated {
  events: AuditEvent[];
  taskIds: string[];
  jobIds: string[];
  workerIds: string[];
}

/** The lifecycle of one task, as the services write it. */
function taskEvents(random: () => number, at: number, id: string, jobId?: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  let time = at;
  const push = (type: AuditEventType, fields: Partial<AuditEvent> = {}): void => {
    time += 1 + Math.floor(random() * 400);
    events.push({
      id: randomUUID(),
      time,
      type,
      actor: type === 'task.created' ? 'scheduler/scheduler-1/4242' : 'worker/worker-x/4343',
      taskId: id,
      ...(jobId === undefined ? {} : { jobId }),
      ...fields,
    });
  };
  push('task.created', { detail: { type: 'logs.compress', runAt: at } });
  const fate = random();
  if (fate < 0.02) {
    push('task.cancelled', { attempt: 0, detail: { from: 'pending', reason: 'by user' } });
    return events;
  }
  const attempts = fate < 0.8 ? 1 : fate < 0.95 ? 2 : 3;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const workerId = `worker-${1 + Math.floor(random() * WORKERS)}`;
    const on = { attempt, workerId, fencingToken: '7:/election/scheduler/_c_1-n_0000000007' };
    push('task.assigned', on);
    if (random() < 0.03) {
      push('task.reassigned', { ...on, detail: { from: workerId, reason: 'worker gone' } });
      continue;
    }
    push('task.started', { ...on, detail: { lateMs: Math.floor(random() * 50) } });
    if (attempt < attempts) {
      push('task.failed', {
        ...on,
        detail: {
          code: 'handler',
          message: 'gzip: disk full',
          failures: attempt,
          state: 'retrying',
        },
      });
      push('task.retry_scheduled', { ...on, detail: { retryAt: time + 1000, failures: attempt } });
    } else {
      push('task.succeeded', {
        ...on,
        detail: { durationMs: Math.floor(random() * 2000), state: 'succeeded' },
      });
    }
  }
  return events;
}

function generate(count: number): Generated {
  const random = prng(20260105);
  const events: AuditEvent[] = [];
  const taskIds: string[] = [];
  const stride = WEEK_MS / (count / 5.9);
  let clock = START;
  for (let n = 0; events.length < count; n++) {
    clock += stride * (0.5 + random());
    const cron = random() < 0.7;
    const jobId = cron ? `job-${1 + Math.floor(random() * JOBS)}` : undefined;
    const taskId = jobId === undefined ? randomUUID() : `${jobId}@${Math.floor(clock)}`;
    taskIds.push(taskId);
    events.push(...taskEvents(random, clock, taskId, jobId));
    if (random() < 0.01) {
      const kind = random();
      events.push({
        id: randomUUID(),
        time: Math.floor(clock),
        type: kind < 0.4 ? 'worker.joined' : kind < 0.8 ? 'worker.left' : 'leader.elected',
        actor: 'scheduler/scheduler-1/4242',
        workerId: `worker-${1 + Math.floor(random() * WORKERS)}`,
      });
    }
    if (random() < 0.005) {
      events.push({
        id: randomUUID(),
        time: Math.floor(clock),
        type: 'job.updated',
        actor: 'scheduler/scheduler-2/4244',
        jobId: `job-${1 + Math.floor(random() * JOBS)}`,
      });
    }
  }
  events.length = count;
  // Drained in outbox order, roughly by time: sort with up to 2 s of jitter.
  const keyed = events.map((event) => ({ event, key: event.time + random() * 2000 }));
  keyed.sort((a, b) => a.key - b.key);
  return {
    events: keyed.map(({ event }) => event),
    taskIds,
    jobIds: Array.from({ length: JOBS }, (_, i) => `job-${i + 1}`),
    workerIds: Array.from({ length: WORKERS }, (_, i) => `worker-${i + 1}`),
  };
}

const LOAD_SQL = `
  INSERT INTO audit_events
    (event_id, "time", "type", job_id, task_id, worker_id, attempt, actor, fencing_token, detail)
  SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                       $6::text[], $7::integer[], $8::text[], $9::text[], $10::jsonb[])`;

async function load(database: AuditDatabase, events: readonly AuditEvent[]): Promise<number> {
  const source = database.dataSource;
  const indexes = (await source.query(
    `SELECT indexname, indexdef FROM pg_indexes
      WHERE tablename = 'audit_events'
        AND indexname NOT IN ('audit_events_pkey', 'audit_events_event_id_key')`,
  )) as Array<{ indexname: string; indexdef: string }>;
  for (const index of indexes) await source.query(`DROP INDEX ${index.indexname}`);
  const startedAt = performance.now();
  const chunk = 10_000;
  for (let i = 0; i < events.length; i += chunk) {
    const slice = events.slice(i, i + chunk);
    await source.query(LOAD_SQL, [
      slice.map((e) => e.id),
      slice.map((e) => new Date(e.time).toISOString()),
      slice.map((e) => e.type),
      slice.map((e) => e.jobId ?? null),
      slice.map((e) => e.taskId ?? null),
      slice.map((e) => e.workerId ?? null),
      slice.map((e) => e.attempt ?? null),
      slice.map((e) => e.actor),
      slice.map((e) => e.fencingToken ?? null),
      slice.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
    ]);
    if ((i / chunk) % 20 === 19) log(`  loaded ${i + chunk} events`);
  }
  for (const index of indexes) await source.query(index.indexdef);
  await source.query('VACUUM ANALYZE audit_events');
  return performance.now() - startedAt;
}

// ---- measuring -------------------------------------------------------------------

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface Case {
  name: string;
  /** A fresh query for each run (random parameters). */
  make: () => Promise<AuditQuery>;
}

interface CaseResult {
  name: string;
  p50: number;
  p99: number;
  rows: number;
  indexes: string[];
  plan: string;
}

async function measure(
  store: TypeOrmAuditStore,
  database: AuditDatabase,
  cases: readonly Case[],
  runs: number,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const item of cases) {
    const samples: number[] = [];
    let rows = 0;
    for (let run = 0; run < runs; run++) {
      const query = await item.make();
      const startedAt = performance.now();
      const page = await store.query(query);
      samples.push(performance.now() - startedAt);
      rows += page.events.length;
    }
    samples.sort((a, b) => a - b);
    const { sql, params } = auditQueryStatement(await item.make());
    const explained = (await database.dataSource.query(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`,
      params,
    )) as Array<{ 'QUERY PLAN': string }>;
    const plan = explained.map((line) => line['QUERY PLAN']).join('\n');
    const indexes = [
      ...new Set(
        [...plan.matchAll(/(?:Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)/g)].map(
          (match) => match[1],
        ),
      ),
    ];
    results.push({
      name: item.name,
      p50: round(percentile(samples, 0.5)),
      p99: round(percentile(samples, 0.99)),
      rows: Math.round(rows / runs),
      indexes,
      plan,
    });
    log(`  ${item.name}: p50 ${round(percentile(samples, 0.5))} ms`);
  }
  return results;
}

async function seqAt(
  database: AuditDatabase,
  where: string,
  params: unknown[],
  fraction: number,
): Promise<string> {
  const [row] = (await database.dataSource.query(
    `SELECT seq FROM audit_events WHERE ${where} ORDER BY seq
      OFFSET (SELECT floor(count(*) * ${fraction}) FROM audit_events WHERE ${where}) LIMIT 1`,
    params,
  )) as Array<{ seq: string }>;
  return row?.seq ?? '0';
}

interface AppendResult {
  batch: number;
  batches: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
}

async function measureAppend(
  store: TypeOrmAuditStore,
  size: number,
  batches: number,
): Promise<AppendResult> {
  const random = prng(size);
  const samples: number[] = [];
  let clock = START + WEEK_MS;
  let total = 0;
  let elapsed = 0;
  for (let b = 0; b < batches; b++) {
    const batch: AuditEvent[] = [];
    while (batch.length < size) {
      clock += 50;
      batch.push(
        ...taskEvents(random, clock, randomUUID(), `job-${1 + Math.floor(random() * JOBS)}`),
      );
    }
    batch.length = size;
    const startedAt = performance.now();
    total += await store.append(batch);
    const took = performance.now() - startedAt;
    samples.push(took);
    elapsed += took;
  }
  samples.sort((a, b) => a - b);
  return {
    batch: size,
    batches,
    eventsPerSecond: Math.round(total / (elapsed / 1000)),
    p50: round(percentile(samples, 0.5), 1),
    p99: round(percentile(samples, 0.99), 1),
  };
}

// ---- main ------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  log(`generating ${options.events} events`);
  const data = generate(options.events);
  const postgres = await TestingPostgres.start({
    durable: true,
    settings: { shared_buffers: '512MB', max_wal_size: '4GB', checkpoint_timeout: '30min' },
  });
  const database = new AuditDatabase({ url: await postgres.createDatabase('bench') });
  try {
    database.start();
    await database.whenReady();
    const store = new TypeOrmAuditStore(database.dataSource);
    log(`PostgreSQL ${postgres.binaries.major} on port ${postgres.port}; loading`);
    const loadMs = await load(database, data.events);
    const [{ size }] = (await database.dataSource.query(
      `SELECT pg_size_pretty(pg_total_relation_size('audit_events')) AS size`,
    )) as Array<{ size: string }>;
    log(`loaded in ${(loadMs / 1000).toFixed(1)} s (table with indexes: ${size})`);

    const random = prng(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const span = data.events.at(-1)!.time - data.events[0].time;
    const timeAt = (fraction: number): number => data.events[0].time + Math.floor(span * fraction);
    const hour = 3600 * 1000;
    const cursorIn = (where: string, params: unknown[]) => seqAt(database, where, params, 0.5);
    const cases: Case[] = [
      { name: 'taskId', make: async () => ({ taskId: pick(data.taskIds), limit: 100 }) },
      { name: 'jobId', make: async () => ({ jobId: pick(data.jobIds), limit: 100 }) },
      {
        name: 'jobId + cursor',
        make: async () => {
          const jobId = pick(data.jobIds);
          return { jobId, after: await cursorIn('job_id = $1', [jobId]), limit: 100 };
        },
      },
      { name: 'workerId', make: async () => ({ workerId: pick(data.workerIds), limit: 100 }) },
      {
        name: 'workerId + cursor',
        make: async () => {
          const workerId = pick(data.workerIds);
          return { workerId, after: await cursorIn('worker_id = $1', [workerId]), limit: 100 };
        },
      },
      { name: 'type (task.failed)', make: async () => ({ type: 'task.failed', limit: 100 }) },
      {
        name: 'type + cursor',
        make: async () => ({
          type: 'task.failed',
          after: await cursorIn(`"type" = $1`, ['task.failed']),
          limit: 100,
        }),
      },
      {
        name: 'type (leader.elected, rare)',
        make: async () => ({ type: 'leader.elected', limit: 100 }),
      },
      {
        name: 'since/until (1 h window)',
        make: async () => {
          const since = timeAt(random() * 0.98);
          return { since, until: since + hour, limit: 100 };
        },
      },
      {
        name: 'since (last hour)',
        make: async () => ({ since: timeAt(1) - hour, limit: 100 }),
      },
      {
        name: 'since (last day)',
        make: async () => ({ since: timeAt(1) - 24 * hour, limit: 100 }),
      },
      {
        name: 'since/until (1 day, mid-week)',
        make: async () => ({ since: timeAt(0.5), until: timeAt(0.5) + 24 * hour, limit: 100 }),
      },
      {
        name: 'since/until (1 day) + cursor',
        make: async () => {
          const since = timeAt(0.5);
          const until = since + 24 * hour;
          const after = await cursorIn(`"time" >= $1 AND "time" < $2`, [
            new Date(since).toISOString(),
            new Date(until).toISOString(),
          ]);
          return { since, until, after, limit: 100 };
        },
      },
      {
        name: 'since (whole week)',
        make: async () => ({ since: timeAt(0), limit: 100 }),
      },
      {
        name: 'jobId + since/until (1 day)',
        make: async () => ({
          jobId: pick(data.jobIds),
          since: timeAt(0.5),
          until: timeAt(0.5) + 24 * hour,
          limit: 100,
        }),
      },
      { name: 'no filter', make: async () => ({ limit: 100 }) },
      {
        name: 'no filter + cursor',
        make: async () => ({
          after: String(Math.floor(random() * options.events)),
          limit: 100,
        }),
      },
      { name: 'no filter, limit 1000', make: async () => ({ limit: 1_000 }) },
    ];
    log('querying');
    const results = await measure(store, database, cases, options.runs);

    log('appending');
    const appends = [
      await measureAppend(store, 100, options.appendBatches * 10),
      await measureAppend(store, 1_000, options.appendBatches),
    ];

    for (const result of results) {
      process.stdout.write(`\n== ${result.name}\n${result.plan}\n`);
    }
    const rows = results.map((r) => [
      r.name,
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      String(r.rows),
      r.indexes.join(', ') || '(none)',
    ]);
    process.stdout.write(
      `\n${table(['query (limit 100)', 'p50 ms', 'p99 ms', 'rows', 'index'], rows)}\n`,
    );
    const appendRows = appends.map((a) => [
      String(a.batch),
      String(a.batches),
      String(a.eventsPerSecond),
      a.p50.toFixed(1),
      a.p99.toFixed(1),
    ]);
    process.stdout.write(
      `\n${table(['append batch', 'batches', 'events/s', 'p50 ms', 'p99 ms'], appendRows)}\n`,
    );
    process.stdout.write(
      `\n${JSON.stringify({
        bench: 'audit-query',
        postgres: postgres.binaries.major,
        events: options.events,
        tableSize: size,
        loadSeconds: round(loadMs / 1000, 1),
        runs: options.runs,
        queries: Object.fromEntries(
          results.map((r) => [
            r.name,
            { p50: r.p50, p99: r.p99, rows: r.rows, indexes: r.indexes },
          ]),
        ),
        append: Object.fromEntries(
          appends.map((a) => [
            String(a.batch),
            { eventsPerSecond: a.eventsPerSecond, p50: a.p50, p99: a.p99 },
          ]),
        ),
      })}\n`,
    );
  } finally {
    await database.close();
    await postgres.close();
  }
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) =>
        i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
