/**
 * Hot standby at scale: many cron jobs, then the leader killed.
 *
 *   npm run bench:scale                      # 100,000 jobs
 *   npm run bench:scale -- --jobs 10000
 *
 * Real processes (2 schedulers, 2 workers, a registry draining the audit
 * outbox into PostgreSQL) on one ZooKeeper server. It measures:
 * - creation: `--jobs` cron jobs (hourly, 3,600 distinct schedules) through
 *   `POST /v1/jobs`, one per request, from `--clients` concurrent clients
 *   spread over the schedulers: jobs/s;
 * - size: RSS and V8 heap of every process, ZooKeeper's znodes and data bytes;
 *   the job view's heap per job, measured in this process (entries built from
 *   the same records, with the leader's timers);
 * - `GET /v1/jobs?limit=100` (and a `name` search) on every scheduler, p50/p99;
 * - takeover, once with `kill -9` and once with SIGTERM of the leader:
 *   kill → the successor's `/leader` commit, elected → its first fire (the
 *   first probe task it created), the successor's RSS after it; a scheduler
 *   is started again after each kill;
 * - probes: `--probes` jobs `* * * * * *` (`fire_all`) all along: missed and
 *   duplicated instants, from the audit history.
 *
 * Prints tables, then ONE JSON line `{"bench":"scale",...}` last.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import type { ZkClient } from '@app/zk';
import { ZkLayout, type JobRecord } from '@app/contracts';
import { newEntry, type CatalogEntry } from '../apps/scheduler/src/catalog/catalog-entry';
import { InternPool } from '../apps/scheduler/src/catalog/intern-pool';
import { Timers } from '../apps/scheduler/src/dispatch/timers';
import { scheduleForJob } from '../apps/scheduler/src/timing/schedule-factory';
import type { AppProcess } from '../test/support/app-process';
import { BenchCluster, metricSum, request } from './support/bench-cluster';
import { parseOptions } from './support/cli-options';
import { poll, sleep } from './support/poll';
import { formatProfile, summarizeProfile } from './profile-top';
import { round, summarize, thousands, type Summary } from './support/stats';
import { keyValues, table } from './support/table';

const OPTIONS = [
  { name: 'jobs', help: 'cron jobs created', fallback: 100_000, min: 1 },
  { name: 'clients', help: 'concurrent clients creating them', fallback: 32, min: 1 },
  { name: 'probes', help: 'jobs firing every second (fire_all)', fallback: 3, min: 1 },
  {
    name: 'session-timeout',
    help: 'ZK_SESSION_TIMEOUT_MS of the services',
    fallback: 4_000,
    min: 1_000,
  },
  { name: 'settle', help: 'seconds of normal running before each measure', fallback: 10, min: 1 },
  { name: 'list-requests', help: 'list requests per scheduler', fallback: 50, min: 1 },
  { name: 'profile', help: '1: CPU profiles of the services while jobs are created', fallback: 0 },
  {
    name: 'compiled',
    help: '1: services from dist/ (npm run build first), as in production; 0: from sources',
    fallback: 1,
  },
] as const;

interface ProcessSize {
  name: string;
  rssMb: number;
  heapUsedMb?: number;
  /** V8 heap committed (used or not): RSS keeps it until V8 gives pages back. */
  heapTotalMb?: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers). */
  externalMb?: number;
}

interface Takeover {
  signal: 'SIGKILL' | 'SIGTERM';
  killedAt: string;
  electedMs: number;
  firstFireMs: number;
  /**
   * The first fire's task created − its instant: how late the successor fired
   * (elected → first fire also holds the wait for the next instant, up to 1 s).
   */
  firstFireLateMs: number;
  /** elected → first fire */
  electedToFirstFireMs: number;
  successorRssMb: number;
  successorHeapUsedMb: number;
  sizesAfter: ProcessSize[];
}

export interface ScaleResult {
  bench: 'scale';
  config: Record<string, number>;
  loadAverageAtStart: number[];
  creation: { jobs: number; seconds: number; jobsPerSecond: number; errors: number };
  viewBuiltOnEverySchedulerMs: number;
  sizes: ProcessSize[];
  zookeeper: {
    znodes: number;
    dataMb: number;
    bytesPerJob: number;
    znodesPerJob: number;
    /** JVM heap in use after a full GC (`jcmd`), NaN without a JDK. */
    heapUsedMb: number;
  };
  heapPerJob: { viewBytes: number; leaderTimerBytes: number };
  list: Record<string, { page: Summary; search: Summary }>;
  takeovers: Takeover[];
  probes: { instants: number; missed: number; duplicated: number };
}

async function main(): Promise<void> {
  const options = parseOptions(OPTIONS, process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const heapPerJob = measureHeapPerJob(Math.min(options.jobs, 50_000));
  const bench = await BenchCluster.start({
    sessionTimeoutMs: options['session-timeout'],
    zkHeapMb: 1_024,
    env: {
      API_MAX_JOBS: String(options.jobs + options.probes + 1_000),
      REGISTRY_RETENTION_MS: '30000',
      LOG_LEVEL: 'warn',
    },
    log,
    compiled: options.compiled === 1,
    ...(options.profile ? { profileDir: join(tmpdir(), `zks-scale-profile-${Date.now()}`) } : {}),
  });
  try {
    const result = await run(bench, options, heapPerJob, log);
    process.stdout.write(`${format(result)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await bench.close();
  }
}

async function run(
  bench: BenchCluster,
  options: Record<(typeof OPTIONS)[number]['name'], number>,
  heapPerJob: ScaleResult['heapPerJob'],
  log: (line: string) => void,
): Promise<ScaleResult> {
  const loadAverageAtStart = loadavg().map((v) => round(v, 2));
  await bench.startServices(2, 2);
  const registry = await bench.cluster.start('registry');
  const zk = await bench.cluster.zk();
  const schedulers = (): AppProcess[] => bench.schedulers.filter((s) => s.isRunning);

  const probes: string[] = [];
  for (let i = 0; i < options.probes; i++) {
    const probe = await request<{ id: string }>(schedulers()[0], 'POST', '/v1/jobs', {
      name: `probe-${i}`,
      type: 'noop',
      schedule: '* * * * * *',
      misfire: 'fire_all',
    });
    probes.push(probe.id);
  }

  log(`creating ${thousands(options.jobs)} jobs from ${options.clients} clients…`);
  bench.startProfiles();
  const creation = await createJobs(schedulers(), options.jobs, options.clients, log);
  for (const file of await bench.stopProfiles()) log(formatProfile(summarizeProfile(file)));
  log(`${creation.jobsPerSecond} jobs/s; waiting for every job view…`);
  const total = options.jobs + options.probes;
  const viewStart = Date.now();
  await waitForViews(schedulers(), total);
  const viewBuiltOnEverySchedulerMs = Date.now() - viewStart;
  await sleep(options.settle * 1_000);

  const sizes = await processSizes(bench, registry);
  const { mntr } = await bench.counters();
  const znodes = mntr.get('zk_znode_count') ?? NaN;
  const dataBytes = mntr.get('zk_approximate_data_size') ?? NaN;
  const zookeeper = {
    znodes,
    dataMb: round(dataBytes / 1e6, 1),
    bytesPerJob: Math.round(dataBytes / total),
    znodesPerJob: round(znodes / total, 2),
    heapUsedMb: jvmHeapUsedMb(bench.server.pid!),
  };
  log('listing…');
  const list: ScaleResult['list'] = {};
  for (const scheduler of schedulers()) {
    list[scheduler.memberId] = await measureList(scheduler, options['list-requests']);
  }

  const takeovers: Takeover[] = [];
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    log(`takeover after ${signal} of the leader…`);
    takeovers.push(await takeover(bench, zk, probes, signal, registry));
    const fresh = await bench.add('scheduler');
    await waitForViews([fresh], total);
    await sleep(options.settle * 1_000);
  }

  log('reading the probes’ fires from the history…');
  await bench.cluster.drainer();
  await sleep(5_000);
  return {
    bench: 'scale',
    config: { ...options },
    loadAverageAtStart,
    creation,
    viewBuiltOnEverySchedulerMs,
    sizes,
    zookeeper,
    heapPerJob,
    list,
    takeovers,
    probes: await probeInstants(bench.database.url, probes),
  };
}

async function createJobs(
  targets: readonly AppProcess[],
  jobs: number,
  clients: number,
  log: (line: string) => void,
): Promise<ScaleResult['creation']> {
  let next = 0;
  let errors = 0;
  const started = Date.now();
  let reported = started;
  await Promise.all(
    Array.from({ length: clients }, async (_, lane) => {
      for (;;) {
        const i = next++;
        if (i >= jobs) return;
        const body = {
          name: `scale-${i}`,
          type: 'noop',
          schedule: `${i % 60} ${Math.floor(i / 60) % 60} * * * *`,
        };
        try {
          await request(targets[lane % targets.length], 'POST', '/v1/jobs', body);
        } catch {
          errors++;
        }
        if (Date.now() - reported > 10_000) {
          reported = Date.now();
          log(`  ${thousands(i)} created`);
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1_000;
  return { jobs, seconds: round(seconds, 1), jobsPerSecond: Math.round(jobs / seconds), errors };
}

async function waitForViews(targets: readonly AppProcess[], jobs: number): Promise<void> {
  await poll(
    async () => {
      const sizes = await Promise.all(
        targets.map(async (s) => metricSum(await metricsOf(s), 'zks_scheduler_job_view_jobs')),
      );
      return sizes.every((n) => n >= jobs) ? true : undefined;
    },
    600_000,
    500,
  );
}

async function metricsOf(process: AppProcess): Promise<string> {
  return (await fetch(process.url('/metrics'))).text();
}

async function processSizes(bench: BenchCluster, registry: AppProcess): Promise<ProcessSize[]> {
  const sizes: ProcessSize[] = [{ name: 'zookeeper (JVM)', rssMb: rssMb(bench.server.pid!) }];
  for (const p of [...bench.schedulers, ...bench.workers, registry].filter((p) => p.isRunning)) {
    const metrics = await metricsOf(p);
    const mb = (name: string): number => round(metricSum(metrics, name) / 1e6, 1);
    sizes.push({
      name: p.memberId,
      rssMb: rssMb(p.pid),
      heapUsedMb: mb('nodejs_heap_size_used_bytes'),
      heapTotalMb: mb('nodejs_heap_size_total_bytes'),
      externalMb: mb('nodejs_external_memory_bytes'),
    });
  }
  return sizes;
}

/** Heap in use after a full collection, from the JDK's `jcmd` (NaN when it is missing). */
function jvmHeapUsedMb(pid: number): number {
  try {
    execFileSync('jcmd', [String(pid), 'GC.run'], { stdio: 'ignore' });
    const info = execFileSync('jcmd', [String(pid), 'GC.heap_info'], { encoding: 'utf8' });
    const used = [...info.matchAll(/generation\s+total \d+K, used (\d+)K/g)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    return round(used / 1024, 1);
  } catch {
    return NaN;
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return round(kb / 1024, 1);
}

async function measureList(
  scheduler: AppProcess,
  requests: number,
): Promise<{ page: Summary; search: Summary }> {
  const page: number[] = [];
  const search: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < requests; i++) {
    const path: string = `/v1/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    let started = performance.now();
    const result = await request<{ nextCursor: string | null }>(scheduler, 'GET', path);
    page.push(performance.now() - started);
    cursor = result.nextCursor;
    started = performance.now();
    await request(scheduler, 'GET', `/v1/jobs?limit=100&name=scale-${1_000 + i}`);
    search.push(performance.now() - started);
  }
  return { page: summarize(page), search: summarize(search) };
}

async function takeover(
  bench: BenchCluster,
  zk: ZkClient,
  probes: readonly string[],
  signal: 'SIGKILL' | 'SIGTERM',
  registry: AppProcess,
): Promise<Takeover> {
  const leader = await bench.cluster.leader();
  const before = (await zk.exists(ZkLayout.leader))!.mzxid;
  const killedAt = Date.now();
  await leader.signal(signal);
  const elected = await poll(
    async () => {
      const stat = await zk.exists(ZkLayout.leader);
      return stat && stat.mzxid !== before ? stat.mtime : undefined;
    },
    120_000,
    20,
  );
  const first = await poll(
    async () => {
      const { children } = await zk.children(ZkLayout.tasks);
      const mine = children.filter((id) => probes.some((probe) => id.startsWith(`${probe}@`)));
      const stats = await Promise.all(mine.map((id) => zk.exists(ZkLayout.task(id))));
      const after = mine
        .map((id, i) => ({ instant: Number(id.slice(id.lastIndexOf('@') + 1)), stat: stats[i] }))
        .filter(({ stat }) => stat !== null && stat.ctime >= elected)
        .map(({ instant, stat }) => ({ instant, createdAt: stat!.ctime }))
        .sort((a, b) => a.createdAt - b.createdAt);
      return after[0];
    },
    120_000,
    20,
  );
  const firstFire = first.createdAt;
  const successor = await bench.cluster.leader();
  await sleep(5_000);
  const sizesAfter = await processSizes(bench, registry);
  const mine = sizesAfter.find((s) => s.name === successor.memberId)!;
  return {
    signal,
    killedAt: new Date(killedAt).toISOString(),
    electedMs: elected - killedAt,
    firstFireMs: firstFire - killedAt,
    electedToFirstFireMs: firstFire - elected,
    firstFireLateMs: firstFire - first.instant,
    successorRssMb: mine.rssMb,
    successorHeapUsedMb: mine.heapUsedMb ?? NaN,
    sizesAfter,
  };
}

/** Instants of the probes from the history: gaps between the first and last fire, and repeats. */
async function probeInstants(
  databaseUrl: string,
  probes: readonly string[],
): Promise<ScaleResult['probes']> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let instants = 0;
    let missed = 0;
    let duplicated = 0;
    for (const probe of probes) {
      const { rows } = await client.query<{ fire_time: string; n: string }>(
        `SELECT detail->>'fireTime' AS fire_time, count(*)::text AS n FROM audit_events
          WHERE job_id = $1 AND "type" = 'task.created' GROUP BY 1 ORDER BY 1`,
        [probe],
      );
      const times = rows.map((r) => Number(r.fire_time)).sort((a, b) => a - b);
      instants += times.length;
      duplicated += rows.filter((r) => Number(r.n) > 1).length;
      for (let i = 1; i < times.length; i++) missed += (times[i] - times[i - 1]) / 1_000 - 1;
    }
    return { instants, missed, duplicated };
  } finally {
    await client.end();
  }
}

/**
 * The job view's heap per job and the leader's timers per job, measured here:
 * entries built from records shaped like the benchmark's, with a full GC
 * before each reading.
 */
export function measureHeapPerJob(jobs: number): ScaleResult['heapPerJob'] {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const now = Date.now();
  const records: JobRecord[] = Array.from({ length: jobs }, (_, i) => ({
    id: crypto.randomUUID(),
    name: `scale-${i}`,
    type: 'noop',
    payload: {},
    schedule: `${i % 60} ${Math.floor(i / 60) % 60} * * * *`,
    timezone: 'UTC',
    retry: { maxAttempts: 1, backoffMs: 1_000 },
    concurrency: 'allow',
    misfire: 'fire_once',
    parallelism: 1,
    paused: false,
    createdAt: now,
    updatedAt: now,
  }));
  // The records as a note brings them (JSON), parsed once the base is taken.
  const json = JSON.stringify(records);
  records.length = 0;
  const timers = new Timers<{ entry: object; instant: number; generation: number }>(
    () => undefined,
  );
  const entry = {}; // timers point at the job view's entries
  const timersBase = heap();
  for (let i = 0; i < jobs; i++)
    timers.schedule(now + i, { entry, instant: now + i, generation: 1 });
  const withTimers = heap();
  timers.stop();
  const base = heap();
  const strings = new InternPool();
  const entries = new Map<string, CatalogEntry>();
  for (const record of JSON.parse(json) as JobRecord[]) {
    entries.set(record.id, newEntry(record, 0, strings, scheduleForJob));
  }
  const withView = heap();
  if (entries.size !== jobs) throw new Error('the job view lost entries');
  return {
    viewBytes: Math.round((withView - base) / jobs),
    leaderTimerBytes: Math.round((withTimers - timersBase) / jobs),
  };
}

function format(r: ScaleResult): string {
  const ms = (s: Summary): string => `${s.p50} / ${s.p99}`;
  return [
    `Scale: ${thousands(r.creation.jobs)} jobs, ${r.config.clients} clients (load average before: ${r.loadAverageAtStart.join(' ')})`,
    '',
    keyValues([
      [
        'creation',
        `${thousands(r.creation.jobsPerSecond)} jobs/s (${r.creation.seconds} s, ${r.creation.errors} errors)`,
      ],
      ['every job view built', `${r.viewBuiltOnEverySchedulerMs} ms after the last create`],
      [
        'ZooKeeper',
        `${thousands(r.zookeeper.znodes)} znodes (${r.zookeeper.znodesPerJob}/job), ${r.zookeeper.dataMb} MB data (${r.zookeeper.bytesPerJob} B/job), heap ${r.zookeeper.heapUsedMb} MB after GC`,
      ],
      [
        'heap per job',
        `job view ${r.heapPerJob.viewBytes} B, leader timers ${r.heapPerJob.leaderTimerBytes} B`,
      ],
      [
        'probes',
        `${r.probes.instants} instants fired, ${r.probes.missed} missed, ${r.probes.duplicated} duplicated`,
      ],
    ]),
    '',
    'Processes before the kills (MB; V8 heap used / committed, memory outside it V8 knows of):',
    table(
      ['process', 'RSS', 'heap', 'heap committed', 'external'],
      r.sizes.map((s) => [
        s.name,
        String(s.rssMb),
        s.heapUsedMb === undefined ? '' : String(s.heapUsedMb),
        s.heapTotalMb === undefined ? '' : String(s.heapTotalMb),
        s.externalMb === undefined ? '' : String(s.externalMb),
      ]),
    ),
    '',
    'GET /v1/jobs?limit=100 (p50 / p99 ms):',
    table(
      ['scheduler', 'page', 'name search'],
      Object.entries(r.list).map(([name, l]) => [name, ms(l.page), ms(l.search)]),
    ),
    '',
    'Takeovers (ms from the signal; elected = `/leader` commit; first fire = first probe task created;',
    '  vs its instant: created − the instant it is for, negative when ahead as fires are created ahead):',
    table(
      [
        'signal',
        'elected',
        'first fire',
        'elected → first fire',
        'vs its instant',
        'successor RSS / heap MB',
      ],
      r.takeovers.map((t) => [
        t.signal,
        String(t.electedMs),
        String(t.firstFireMs),
        String(t.electedToFirstFireMs),
        String(t.firstFireLateMs),
        `${t.successorRssMb} / ${t.successorHeapUsedMb}`,
      ]),
    ),
  ].join('\n');
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
