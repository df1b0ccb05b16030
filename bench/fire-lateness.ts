/**
 * Cron fire lateness: N jobs `* * * * * *` (every second, `noop`) on one
 * scheduler and two workers, for a window of D seconds.
 *
 *   npm run bench:lateness -- --jobs 1000 --duration 60
 *
 * Every fire of every job in the steady window (after a warm-up) is looked at
 * once the window is over, from the task records (their ids are
 * `<jobId>@<instant>`, so each instant is one `get`, no listing):
 * lateness = the worker's `startedAt` − the scheduled instant (`fireTime`).
 * An instant with no task, or whose task never started, is missed. Duplicates
 * come from the audit outbox: more than one `task.created` for an instant, or
 * more than one `task.started` for its task, is a duplicated instant.
 *
 * The leader creates and assigns each fire SCHEDULER_FIRE_LEAD_MS (default
 * 1 000) before its instant; the worker holds it until `runAt`. The report
 * breaks each fire down (leader fire lag, assignment, slack before the
 * instant, start lateness, write) to show where time goes.
 *
 * Prints tables, then ONE JSON line `{"bench":"fire-lateness",...}` last.
 */
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile-top';
import { BenchCluster, request } from './support/bench-cluster';
import { parseOptions } from './support/cli-options';
import { STORE_WARMUP_OPTION } from './support/store-warmup';
import { scanOutbox } from './support/outbox-reader';
import { CpuMeter, cpuReport, cpuTable, type CpuReport } from './support/process-cpu';
import { round, summarize, thousands, type Summary } from './support/stats';
import { keyValues, table } from './support/table';
import { pipelined, readTasks, type StoredTask } from './support/task-reader';
import { zkActivity, type ZkActivity, type ZkCounters } from './support/zk-counters';

const OPTIONS = [
  { name: 'jobs', help: 'jobs firing every second', fallback: 1_000, min: 1 },
  STORE_WARMUP_OPTION,
  { name: 'duration', help: 'measured window (s)', fallback: 60, min: 1 },
  { name: 'warmup', help: 'seconds after the last job is created before the window', fallback: 3 },
  { name: 'capacity', help: 'WORKER_CAPACITY of each worker', fallback: 1_024, min: 1 },
  { name: 'lead', help: 'SCHEDULER_FIRE_LEAD_MS', fallback: 1_000 },
  { name: 'settle', help: 'seconds waited after the window before reading', fallback: 3 },
  { name: 'audit', help: '1: scan the outbox for duplicate created/started events', fallback: 1 },
  { name: 'session-timeout', help: 'ZK_SESSION_TIMEOUT_MS of the services', fallback: 10_000 },
  { name: 'profile', help: '1: run the services under --cpu-prof', fallback: 0 },
  { name: 'zk-heap', help: 'ZooKeeper heap (MB)', fallback: 2_048, min: 64 },
] as const;

type OptionName = (typeof OPTIONS)[number]['name'];

const TARGET_P99_MS = 50;
const CREATE_CONCURRENCY = 8;

type Stage = 'fireLag' | 'assign' | 'slack' | 'lateness' | 'handler' | 'finishWrite';

export interface LatenessResult {
  bench: 'fire-lateness';
  config: Record<OptionName, number> & { schedulers: number; workers: number };
  loadAverageAtStart: number[];
  window: { from: string; to: string; instants: number; expectedFires: number };
  fires: number;
  /** Start − instant (ms) over every fire of the window that started. */
  latenessMs: Summary;
  latenessOver50Ms: number;
  missed: { noTask: number; neverStarted: number; total: number };
  duplicated: { tasksPerInstant: number; startsPerTask: number; reassigned: number; total: number };
  target: { p99Ms: number; met: boolean };
  /** Per fire (ms): where the time goes, from the records and their commit times. */
  stagesMs: Record<Stage, Summary>;
  /**
   * Each worker starts its share of an instant's fires as one burst: the first
   * start shows how late the worker's event loop got to the instant, the spread
   * (last start − first start) how long the burst took, and spread ÷ (size − 1)
   * what one start costs on the worker.
   */
  bursts: {
    count: number;
    sizeMean: number;
    firstStartLatenessMs: Summary;
    spreadMs: Summary;
    perStartMs: Summary;
    /** Per instant: the share (%) of its fires that went to the worker that got fewer (50 = even). */
    smallerShare: Summary;
  };
  /** Seconds of the window whose p99 lateness exceeded the target. */
  lateSeconds: Array<{ second: string; p99: number; max: number }>;
  zk: ZkActivity & { transactionsPerFire: number; readRequestsPerFire: number };
  cpu: CpuReport;
  /** With `--profile 1`: the hottest functions of each service over the measurement. */
  cpuProfiles: ProfileSummary[];
  auditEntriesScanned: number | null;
}

async function main(): Promise<void> {
  const options = parseOptions<OptionName>(OPTIONS);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const loadAverageAtStart = loadavg().map((v) => round(v, 2));
  const profileDir = options.profile
    ? join(tmpdir(), `zks-bench-profile-${Date.now()}`)
    : undefined;
  const bench = await BenchCluster.start({
    sessionTimeoutMs: options['session-timeout'],
    storeWarmupS: options['store-warmup'],
    env: {
      WORKER_CAPACITY: String(options.capacity),
      SCHEDULER_FIRE_LEAD_MS: String(options.lead),
    },
    zkHeapMb: options['zk-heap'],
    profileDir,
    log,
  });
  try {
    await bench.startServices(1, 2);
    const result = await measure(bench, options, loadAverageAtStart, log);
    process.stdout.write(`${format(result)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await bench.close();
  }
}

async function measure(
  bench: BenchCluster,
  options: Record<OptionName, number>,
  loadAverageAtStart: number[],
  log: (line: string) => void,
): Promise<LatenessResult> {
  const scheduler = bench.schedulers[0];
  log(`creating ${thousands(options.jobs)} jobs '* * * * * *' (noop)…`);
  const jobIds: string[] = new Array(options.jobs);
  const run = Date.now().toString(36);
  await pipelined(options.jobs, CREATE_CONCURRENCY, async (i) => {
    const { id } = await request<{ id: string }>(scheduler, 'POST', '/v1/jobs', {
      name: `lateness-${run}-${i}`,
      type: 'noop',
      schedule: '* * * * * *',
    });
    jobIds[i] = id;
  });

  const windowStart = Math.ceil((Date.now() + options.warmup * 1_000) / 1_000) * 1_000;
  const windowEnd = windowStart + options.duration * 1_000;
  log(
    `window ${new Date(windowStart).toISOString()} → ${new Date(windowEnd).toISOString()} (${options.duration} s)…`,
  );
  await sleepUntil(windowStart);
  const zkBefore = await bench.counters();
  const cpu = new CpuMeter(bench.watched());
  bench.startProfiles();
  await sleepUntil(windowEnd);
  const cpuUsage = cpu.usage();
  const profiles = await bench.stopProfiles();
  const zkAfter: ZkCounters = await bench.counters();
  await sleepUntil(windowEnd + options.lead + options.settle * 1_000);

  // Nothing more is measured: stop the services so reading competes with nobody.
  log('stopping the services, reading the fires of the window…');
  await Promise.allSettled(bench.cluster.processes.map((p) => p.signal('SIGKILL')));
  const instants: number[] = [];
  for (let t = windowStart; t < windowEnd; t += 1_000) instants.push(t);
  const ids = jobIds.flatMap((jobId) => instants.map((t) => `${jobId}@${t}`));
  const zk = await bench.cluster.zk();
  const records = await readTasks(zk, ids);

  let noTask = 0;
  let neverStarted = 0;
  let reassigned = 0;
  const started: StoredTask[] = [];
  for (const task of records) {
    if (!task) noTask++;
    else if (task.record.startedAt === undefined) neverStarted++;
    else started.push(task);
    if (task && task.record.attempt > 1) reassigned++;
  }
  const lateness = started.map((t) => t.record.startedAt! - t.record.fireTime!);

  let auditEntriesScanned: number | null = null;
  let duplicateCreates = 0;
  let duplicateStarts = 0;
  if (options.audit) {
    log('scanning the audit outbox for duplicates…');
    const windowIds = new Set(ids);
    const creates = new Map<string, number>();
    const starts = new Map<string, number>();
    auditEntriesScanned = await scanOutbox(zk, (event) => {
      if (event.taskId === undefined || event.jobId === undefined) return;
      if (event.type === 'task.created') {
        // Keyed by the instant, not the id: a second task for an instant would have another id.
        const fireTime = event.detail?.fireTime;
        if (typeof fireTime !== 'number' || fireTime < windowStart || fireTime >= windowEnd) return;
        const key = `${event.jobId}@${fireTime}`;
        creates.set(key, (creates.get(key) ?? 0) + 1);
      } else if (event.type === 'task.started' && windowIds.has(event.taskId)) {
        starts.set(event.taskId, (starts.get(event.taskId) ?? 0) + 1);
      }
    });
    for (const count of creates.values()) if (count > 1) duplicateCreates++;
    for (const count of starts.values()) if (count > 1) duplicateStarts++;
  }

  const summary = summarize(lateness);
  const stage = (pick: (t: StoredTask) => number | undefined): Summary =>
    summarize(started.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const activity = zkActivity(zkBefore, zkAfter);
  const fires = records.length - noTask;
  return {
    bench: 'fire-lateness',
    config: { ...options, schedulers: 1, workers: 2 },
    loadAverageAtStart,
    window: {
      from: new Date(windowStart).toISOString(),
      to: new Date(windowEnd).toISOString(),
      instants: instants.length,
      expectedFires: ids.length,
    },
    fires,
    latenessMs: summary,
    latenessOver50Ms: lateness.filter((ms) => ms > TARGET_P99_MS).length,
    missed: { noTask, neverStarted, total: noTask + neverStarted },
    duplicated: {
      tasksPerInstant: duplicateCreates,
      startsPerTask: duplicateStarts,
      reassigned,
      total: duplicateCreates + duplicateStarts,
    },
    target: {
      p99Ms: TARGET_P99_MS,
      met:
        summary.p99 < TARGET_P99_MS &&
        noTask + neverStarted === 0 &&
        duplicateCreates + duplicateStarts === 0,
    },
    stagesMs: {
      fireLag: stage((t) => t.record.createdAt - (t.record.fireTime! - options.lead)),
      assign: stage((t) => t.record.assignedAt! - t.record.createdAt),
      slack: stage((t) => t.record.fireTime! - t.record.assignedAt!),
      lateness: stage((t) => t.record.startedAt! - t.record.fireTime!),
      handler: stage((t) => (t.record.finishedAt ?? NaN) - t.record.startedAt!),
      finishWrite: stage((t) => (t.record.finishedAt ? t.mtime - t.record.finishedAt : undefined)),
    },
    lateSeconds: lateSeconds(started, instants),
    bursts: bursts(started),
    zk: {
      ...activity,
      transactionsPerFire: round(activity.transactions / ids.length, 3),
      readRequestsPerFire: round(activity.readRequests / ids.length, 2),
    },
    cpu: cpuReport(cpuUsage),
    cpuProfiles: profiles.map((file) => summarizeProfile(file)),
    auditEntriesScanned,
  };
}

function bursts(started: readonly StoredTask[]): LatenessResult['bursts'] {
  const groups = new Map<string, number[]>();
  for (const t of started) {
    const key = `${t.record.workerId}@${t.record.fireTime}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(t.record.startedAt! - t.record.fireTime!);
  }
  const first: number[] = [];
  const spread: number[] = [];
  const perStart: number[] = [];
  let sizes = 0;
  for (const lateness of groups.values()) {
    lateness.sort((a, b) => a - b);
    const span = lateness[lateness.length - 1] - lateness[0];
    first.push(lateness[0]);
    spread.push(span);
    if (lateness.length > 1) perStart.push(span / (lateness.length - 1));
    sizes += lateness.length;
  }
  const perInstant = new Map<number, Map<string, number>>();
  for (const t of started) {
    let split = perInstant.get(t.record.fireTime!);
    if (!split) perInstant.set(t.record.fireTime!, (split = new Map()));
    split.set(t.record.workerId!, (split.get(t.record.workerId!) ?? 0) + 1);
  }
  const workers = new Set(started.map((t) => t.record.workerId!));
  const smallerShare = [...perInstant.values()].map((split) => {
    const counts = [...workers].map((w) => split.get(w) ?? 0);
    const total = counts.reduce((a, b) => a + b, 0);
    return (100 * Math.min(...counts)) / Math.max(1, total);
  });
  return {
    count: groups.size,
    sizeMean: round(sizes / Math.max(1, groups.size), 1),
    smallerShare: summarize(smallerShare),
    firstStartLatenessMs: summarize(first),
    spreadMs: summarize(spread),
    perStartMs: summarize(perStart, 3),
  };
}

function lateSeconds(
  started: readonly StoredTask[],
  instants: readonly number[],
): LatenessResult['lateSeconds'] {
  const bySecond = new Map<number, number[]>(instants.map((t) => [t, []]));
  for (const t of started)
    bySecond.get(t.record.fireTime!)?.push(t.record.startedAt! - t.record.fireTime!);
  const rows: LatenessResult['lateSeconds'] = [];
  for (const [second, samples] of bySecond) {
    const s = summarize(samples);
    if (s.p99 >= TARGET_P99_MS)
      rows.push({ second: new Date(second).toISOString(), p99: s.p99, max: s.max });
  }
  return rows;
}

function sleepUntil(epochMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
}

function format(r: LatenessResult): string {
  const l = r.latenessMs;
  const lines: string[] = [
    `Fire lateness — ${thousands(r.config.jobs)} jobs '* * * * * *' (noop), 1 scheduler, 2 workers × capacity ${r.config.capacity}, fire lead ${r.config.lead} ms`,
    keyValues([
      [
        'window',
        `${r.window.from} → ${r.window.to} (${r.window.instants} instants × ${thousands(r.config.jobs)} jobs = ${thousands(r.window.expectedFires)} fires expected)`,
      ],
      [
        'lateness (start − instant)',
        `p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms, mean ${l.mean} ms (n=${thousands(l.count)}); ${thousands(r.latenessOver50Ms)} fires over ${r.target.p99Ms} ms`,
      ],
      [
        'missed instants',
        `${r.missed.total} (no task: ${r.missed.noTask}, never started: ${r.missed.neverStarted})`,
      ],
      [
        'duplicated instants',
        `${r.duplicated.total} (two creations of an instant: ${r.duplicated.tasksPerInstant}, two starts of a task: ${r.duplicated.startsPerTask}; tasks run more than once (attempt > 1): ${r.duplicated.reassigned})${r.auditEntriesScanned === null ? ' — outbox not scanned' : ''}`,
      ],
      ['target (p99 < 50 ms, 0 missed, 0 duplicated)', r.target.met ? 'met' : 'MISSED'],
      ['load average before the run', r.loadAverageAtStart.join(' ')],
    ]),
    '',
    'Where the time goes, per fire (ms):',
  ];
  const names: Record<Stage, string> = {
    fireLag: 'leader fire lag (created − (instant − lead))',
    assign: 'created → assigned',
    slack: 'assigned → instant (slack; < 0 = assigned late)',
    lateness: 'instant → started (lateness)',
    handler: 'started → finished',
    finishWrite: 'finished → committed',
  };
  lines.push(
    table(
      ['stage', 'p50', 'p90', 'p99', 'min', 'max'],
      (Object.keys(names) as Stage[]).map((key) => {
        const s = r.stagesMs[key];
        return [
          names[key],
          String(s.p50),
          String(s.p90),
          String(s.p99),
          String(s.min),
          String(s.max),
        ];
      }),
    ),
  );
  const b = r.bursts;
  lines.push(
    '',
    `Bursts (one worker's share of one instant, ${b.count} of ~${b.sizeMean} fires each), ms:`,
  );
  lines.push(
    table(
      ['', 'min', 'p50', 'p90', 'p99', 'max'],
      [
        ['first start of the burst − instant', b.firstStartLatenessMs],
        ['burst spread (last − first start)', b.spreadMs],
        ['per start (spread ÷ (size − 1))', b.perStartMs],
        ['smaller worker share of an instant (%, 50 = even)', b.smallerShare],
      ].map(([name, s]) => {
        const summary = s as Summary;
        return [
          name as string,
          String(summary.min),
          String(summary.p50),
          String(summary.p90),
          String(summary.p99),
          String(summary.max),
        ];
      }),
    ),
  );
  if (r.lateSeconds.length > 0) {
    lines.push(
      '',
      `Seconds whose p99 lateness reached ${r.target.p99Ms} ms (${r.lateSeconds.length} of ${r.window.instants}):`,
    );
    lines.push(
      table(
        ['second', 'p99', 'max'],
        r.lateSeconds.slice(0, 15).map((s) => [s.second, String(s.p99), String(s.max)]),
      ),
    );
  }
  const z = r.zk;
  lines.push('', 'ZooKeeper over the window:');
  lines.push(
    keyValues([
      [
        'transactions',
        `${thousands(z.transactions)} (${z.transactionsPerFire} per fire; ${round(z.transactions / r.window.instants, 1)} per second)`,
      ],
      ['read requests', `${thousands(z.readRequests)} (${z.readRequestsPerFire} per fire)`],
      [
        'fsyncs',
        `${thousands(z.fsyncs)}, mean ${z.meanFsyncMs} ms, ${z.meanSyncBatch} txns each; mean server write latency ${z.meanWriteLatencyMs} ms`,
      ],
      [
        'bytes received',
        `${thousands(z.bytesReceived)} (${round(z.bytesReceived / r.window.expectedFires)} per fire)`,
      ],
      [
        'znodes at the end',
        `${thousands(z.znodes)} (+${thousands(z.znodesAdded)}), ~${thousands(Math.round(z.dataBytes / 1_048_576))} MB of data`,
      ],
    ]),
  );
  lines.push('', `CPU over the window (${r.cpu.wallSeconds} s wall, 2 cores = 200 %):`);
  lines.push(cpuTable(r.cpu));
  for (const profile of r.cpuProfiles) lines.push('', formatProfile(profile));
  return lines.join('\n');
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
