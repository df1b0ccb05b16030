/**
 * End-to-end throughput of no-op tasks: one ZooKeeper server (fsync on), one
 * scheduler, two workers and a registry draining the audit outbox into
 * PostgreSQL (full audit, as in production), all real processes on this machine.
 *
 *   npm run bench:e2e -- --tasks 30000 --capacity 256
 *
 * N tasks are submitted through `POST /v1/tasks/batch` in batches of 1,000
 * (several requests in flight); the clock runs from the first submit to the
 * commit of the last `succeeded` write.
 *
 * How completion is measured without loading ZooKeeper: while the run goes,
 * the benchmark only polls the workers' `/metrics` (the succeeded counter, an
 * HTTP call to each worker every 250 ms, nothing in ZooKeeper). Once it says
 * N, the run is over; then every task record is read once, each must be
 * `succeeded`, and the end of the run is the latest znode `mtime` (ZooKeeper's
 * commit time of the final write, same host clock as the submit time).
 *
 * With the drain on (`--registry 1`, the default) a run counts only when the
 * outbox is back to near empty (`--near-empty` nodes) within `--drain-grace`
 * seconds of the last task: audit that piles up is cost left out, not speed.
 * The outbox depth is sampled through the run (one `exists` per 250 ms) and
 * the registry's CPU is reported with the others.
 *
 * ZooKeeper requests per task come from every service's own
 * `zks_zookeeper_requests_total` (what each process sent), and from `mntr`.
 *
 * The raw ZooKeeper baseline (bench/zk-baseline.ts) runs first on the same
 * server, so the ratios compare like with like. ZooKeeper's own counters
 * (`srvr` zxid, `mntr`) give transactions and requests per task; /proc gives
 * the CPU time of every process.
 *
 * Prints tables, then ONE JSON line `{"bench":"e2e-throughput",...}` last.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { SubmittedTaskView } from '@app/contracts/dto/scheduler-api';
import { measureZkBaseline, type ZkBaseline } from './zk-baseline';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile-top';
import { BenchCluster, metricSum, request, zkRequestsOf } from './support/bench-cluster';
import { OutboxDepth } from './support/outbox-depth';
import { parseOptions } from './support/cli-options';
import { STORE_WARMUP_OPTION } from './support/store-warmup';
import { jvmThreadCpu, jvmThreadCpuSince, type JvmThreadCpu } from './support/jvm-threads';
import { CpuMeter, cpuReport, cpuTable, type CpuReport } from './support/process-cpu';
import { round, summarize, thousands, type Summary } from './support/stats';
import { keyValues, table } from './support/table';
import { pipelined, readTasks, type StoredTask } from './support/task-reader';
import { requestsByMember, sessionOwners } from './support/zk-connections';
import { zkActivity, type ZkActivity } from './support/zk-counters';

const OPTIONS = [
  { name: 'tasks', help: 'tasks measured', fallback: 30_000, min: 1 },
  STORE_WARMUP_OPTION,
  { name: 'batch', help: 'tasks per POST /v1/tasks/batch (at most 1000)', fallback: 1_000, min: 1 },
  { name: 'inflight', help: 'batch requests in flight', fallback: 4, min: 1 },
  { name: 'capacity', help: 'WORKER_CAPACITY of each worker', fallback: 256, min: 1 },
  { name: 'warmup', help: 'tasks run (and not measured) before the measurement', fallback: 3_000 },
  { name: 'session-timeout', help: 'ZK_SESSION_TIMEOUT_MS of the services', fallback: 10_000 },
  { name: 'baseline', help: '1: measure the raw ZooKeeper baseline first; 0: skip', fallback: 1 },
  { name: 'profile', help: '1: run the services under --cpu-prof', fallback: 0 },
  { name: 'zk-heap', help: 'ZooKeeper heap (MB)', fallback: 1_024, min: 64 },
  { name: 'timeout', help: 'longest wait for completion (s)', fallback: 300, min: 1 },
  { name: 'stall', help: 'fail when no task finishes for this long (s)', fallback: 30, min: 1 },
  {
    name: 'registry',
    help: '1: run a registry draining the audit outbox; 0: no drain',
    fallback: 1,
  },
  {
    name: 'drain-grace',
    help: 'the outbox must be near empty this long after the last task (s)',
    fallback: 15,
    min: 1,
  },
  { name: 'near-empty', help: 'outbox nodes that still count as drained', fallback: 20 },
] as const;

type OptionName = (typeof OPTIONS)[number]['name'];

/** BullMQ and pg-boss, measured earlier on this machine kind (jobs/s). */
const REFERENCES = { bullmq: 5_800, pgBoss: 8_900 } as const;
const TARGET_TASKS_PER_SECOND = 1_500;
const POLL_MS = 250;

export interface E2eResult {
  bench: 'e2e-throughput';
  config: Record<OptionName, number> & { workers: number; schedulers: number };
  tasks: number;
  submitSeconds: number;
  seconds: number;
  tasksPerSecond: number;
  /** Rate between 10 % and 90 % of completions (no ramp-up, no tail). */
  steadyTasksPerSecond: number;
  submitTasksPerSecond: number;
  /** Tasks each worker ran (from the records). */
  tasksByWorker: Record<string, number>;
  targetTasksPerSecond: number;
  meetsTarget: boolean;
  references: { bullmqJobsPerSecond: number; pgBossJobsPerSecond: number };
  /** Per-task latencies (ms) from the records: created→assigned→started→finished→committed. */
  latencyMs: Record<'queued' | 'assignedToStarted' | 'handler' | 'finishWrite' | 'total', Summary>;
  /** The audit drain (null without a registry). */
  drain: null | {
    /** Last task committed → outbox at most `nearEmpty` nodes. */
    drainedSecondsAfterLastTask: number;
    maxOutboxDepth: number;
    /** Deepest outbox per second of the measurement. */
    outboxDepthPerSecond: number[];
    registryCpuPercentOfCore: number;
    registryCpuMsPerTask: number;
  };
  /** Requests each service sent (its zks_zookeeper_requests_total), per task. */
  requestsPerTaskByService: Record<string, number>;
  requestsPerTask: number;
  zk: ZkActivity & {
    transactionsPerTask: number;
    writeRequestsPerTask: number;
    readRequestsPerTask: number;
    packetsPerTask: number;
    bytesReceivedPerTask: number;
    /** Requests (`cons` packets received, pings included) per task, by the process that sent them. */
    requestsPerTaskByProcess: Record<string, number>;
  };
  baseline: null | {
    multiOpsPerSecond: number;
    multiBatchesPerSecond: number;
    pipelinedCreatesPerSecond: number;
    /** tasks/s ÷ pipelined multi ops/s. */
    tasksPerMultiOp: number;
    /** How many raw multi sub-operations the machine could do in the time one task takes. */
    multiOpsBudgetPerTask: number;
    /** tasks/s ÷ pipelined creates/s. */
    tasksPerPipelinedCreate: number;
  };
  cpu: CpuReport;
  /** ZooKeeper's JIT compiler and collector over the measurement (a warm server spends little on either). */
  zkJvm: JvmThreadCpu;
  /** Warnings and errors the services logged (last lines of their output). */
  serviceWarnings: Record<string, string[]>;
  /** With `--profile 1`: the hottest functions of each service over the measurement. */
  cpuProfiles: ProfileSummary[];
}

async function main(): Promise<void> {
  const options = parseOptions<OptionName>(OPTIONS);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  if (options.batch > 1_000) throw new Error('--batch is at most 1000 (the API limit)');
  const profileDir = options.profile
    ? join(tmpdir(), `zks-bench-profile-${Date.now()}`)
    : undefined;
  const bench = await BenchCluster.start({
    sessionTimeoutMs: options['session-timeout'],
    storeWarmupS: options['store-warmup'],
    env: { WORKER_CAPACITY: String(options.capacity) },
    zkHeapMb: options['zk-heap'],
    profileDir,
    log,
  });
  try {
    let baseline: ZkBaseline | undefined;
    if (options.baseline) {
      log('raw ZooKeeper baseline on the same server (failover part skipped)…');
      baseline = await measureZkBaseline({
        connectString: bench.server.connectString,
        sessionTimeoutsMs: [],
        log,
      });
    }
    await bench.startServices(1, 2);
    if (options.registry) {
      // Retention waits until after the read-back of every record; the drain runs from the start.
      await bench.add('registry', { REGISTRY_RETENTION_MS: String(3_600_000) });
      await bench.cluster.drainer(60_000);
    }
    const result = await measure(bench, options, baseline, log);
    process.stdout.write(`${format(result)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await bench.close();
  }
}

async function measure(
  bench: BenchCluster,
  options: Record<OptionName, number>,
  baseline: ZkBaseline | undefined,
  log: (line: string) => void,
): Promise<E2eResult> {
  const scheduler = bench.schedulers[0];
  const succeededSoFar = async (): Promise<number> => {
    const texts = await Promise.all(
      bench.workers.map((w) => fetch(w.url('/metrics')).then((r) => r.text())),
    );
    return texts.reduce(
      (sum, text) =>
        sum +
        metricSum(text, 'zks_worker_tasks_succeeded_total') +
        metricSum(text, 'zks_worker_tasks_failed_total'),
      0,
    );
  };
  const submitAll = async (count: number): Promise<string[]> => {
    const ids: string[] = new Array(count);
    const batches = Math.ceil(count / options.batch);
    await pipelined(batches, options.inflight, async (b) => {
      const size = Math.min(options.batch, count - b * options.batch);
      const tasks = Array.from({ length: size }, () => ({ type: 'noop', payload: {} }));
      const { items } = await request<{ items: SubmittedTaskView[] }>(
        scheduler,
        'POST',
        '/v1/tasks/batch',
        { tasks },
      );
      items.forEach((item, i) => (ids[b * options.batch + i] = item.id));
    });
    return ids;
  };
  const waitForOutcomes = async (total: number, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    let lastLog = 0;
    let progressAt = Date.now();
    for (;;) {
      const done = await succeededSoFar();
      if (done >= total) return;
      if (done !== last) progressAt = Date.now();
      if (Date.now() > deadline) throw new Error(`only ${done} of ${total} tasks finished in time`);
      if (Date.now() - progressAt > options.stall * 1_000) {
        throw new Error(
          `stalled: no task finished for ${options.stall} s (${done} of ${total}); ${await stallReport(bench)}`,
        );
      }
      if (Date.now() - lastLog > 5_000 && done !== last) {
        log(`  … ${thousands(done)} finished`);
        lastLog = Date.now();
      }
      last = done;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  const outbox = new OutboxDepth(await bench.cluster.zk());
  const graceMs = options['drain-grace'] * 1_000;
  if (options.warmup > 0) {
    log(`warm-up: ${thousands(options.warmup)} tasks…`);
    await submitAll(options.warmup);
    await waitForOutcomes(options.warmup, options.timeout * 1_000);
  }
  if (
    options.registry &&
    (await outbox.waitUntilDrained(options['near-empty'], 60_000)) === undefined
  )
    throw new Error('the outbox did not drain after the warm-up');
  const already = await succeededSoFar();
  const services = [...bench.schedulers, ...bench.workers, ...bench.registries];
  const requestsBefore = await Promise.all(services.map(zkRequestsOf));

  log(
    `measuring: ${thousands(options.tasks)} no-op tasks, batches of ${options.batch}, ${options.inflight} in flight, capacity ${options.capacity}/worker…`,
  );
  const zkBefore = await bench.counters();
  const consBefore = await bench.connections();
  const cpu = new CpuMeter(bench.watched(), { postgres: options.registry === 1 });
  const zkJvmBefore = jvmThreadCpu(bench.server.pid!);
  bench.startProfiles();
  outbox.start();
  const startedAt = Date.now();
  const ids = await submitAll(options.tasks);
  const submittedAt = Date.now();
  await waitForOutcomes(already + options.tasks, options.timeout * 1_000);
  const outcomesAt = Date.now();
  // The drain's catch-up is part of the run: CPU and requests are read once it is done.
  const drainedMs = options.registry
    ? await outbox.waitUntilDrained(options['near-empty'], graceMs)
    : 0;
  await outbox.stop();
  if (drainedMs === undefined) {
    throw new Error(
      `the run does not count: the outbox still held ${await outbox.depth()} nodes ${options['drain-grace']} s after the last task (the drain fell behind; deepest ${outbox.max()})`,
    );
  }
  const cpuUsage = cpu.usage();
  const zkJvm = jvmThreadCpuSince(bench.server.pid!, zkJvmBefore);
  const requestsAfter = await Promise.all(services.map(zkRequestsOf));
  const profiles = await bench.stopProfiles();
  const zkAfter = await bench.counters();
  const consAfter = await bench.connections();
  const owners = await sessionOwners(await bench.cluster.zk());

  log('reading every task record (after the measurement)…');
  const zk = await bench.cluster.zk();
  let records = await readTasks(zk, ids);
  // The counter moves just before the write: give the last writes a moment to land.
  for (let look = 0; look < 20 && records.some((t) => t?.record.state !== 'succeeded'); look++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    records = await readTasks(zk, ids);
  }
  const bad = records.filter((t) => t?.record.state !== 'succeeded');
  if (bad.length > 0) {
    throw new Error(
      `${bad.length} tasks did not succeed, e.g. ${JSON.stringify(bad[0]?.record ?? 'missing')}`,
    );
  }
  const stored = records as StoredTask[];
  const commits = stored.map((t) => t.mtime).sort((a, b) => a - b);
  const endedAt = commits[commits.length - 1];
  const seconds = (endedAt - startedAt) / 1_000;
  const t10 = commits[Math.floor(commits.length * 0.1)];
  const t90 = commits[Math.floor(commits.length * 0.9) - 1] ?? endedAt;
  const steady = t90 > t10 ? (0.8 * commits.length * 1_000) / (t90 - t10) : NaN;
  const tasksPerSecond = options.tasks / seconds;

  const latency = (pick: (t: StoredTask) => number): Summary => summarize(stored.map(pick));
  const activity = zkActivity(zkBefore, zkAfter);
  const perTask = (value: number): number => round(value / options.tasks, 2);
  const multi = baseline?.multiPipelined;
  const requestsByService = Object.fromEntries(
    services.map((p, i) => [
      p.memberId,
      totalRequests(requestsAfter[i]) - totalRequests(requestsBefore[i]),
    ]),
  );
  const registryCpu = cpuUsage.processes.find((row) => row.name === bench.registries[0]?.memberId);
  const lastCommit = endedAt;
  return {
    bench: 'e2e-throughput',
    config: { ...options, schedulers: 1, workers: 2 },
    tasks: options.tasks,
    submitSeconds: round((submittedAt - startedAt) / 1_000, 2),
    seconds: round(seconds, 2),
    tasksPerSecond: Math.round(tasksPerSecond),
    steadyTasksPerSecond: Math.round(steady),
    submitTasksPerSecond: Math.round((options.tasks * 1_000) / (submittedAt - startedAt)),
    tasksByWorker: countBy(stored, (t) => t.record.workerId ?? 'none'),
    targetTasksPerSecond: TARGET_TASKS_PER_SECOND,
    meetsTarget: tasksPerSecond >= TARGET_TASKS_PER_SECOND,
    references: { bullmqJobsPerSecond: REFERENCES.bullmq, pgBossJobsPerSecond: REFERENCES.pgBoss },
    drain: options.registry
      ? {
          drainedSecondsAfterLastTask: round(
            Math.max(0, outcomesAt + drainedMs - lastCommit) / 1_000,
            2,
          ),
          maxOutboxDepth: outbox.max(),
          outboxDepthPerSecond: outbox.series().map((s) => s.depth),
          registryCpuPercentOfCore: registryCpu?.percentOfCore ?? 0,
          registryCpuMsPerTask: round(((registryCpu?.cpuSeconds ?? 0) * 1_000) / options.tasks, 3),
        }
      : null,
    requestsPerTaskByService: Object.fromEntries(
      Object.entries(requestsByService).map(([name, n]) => [name, perTask(n)]),
    ),
    requestsPerTask: perTask(Object.values(requestsByService).reduce((a, b) => a + b, 0)),
    latencyMs: {
      queued: latency((t) => t.record.assignedAt! - t.record.createdAt),
      assignedToStarted: latency((t) => t.record.startedAt! - t.record.assignedAt!),
      handler: latency((t) => t.record.finishedAt! - t.record.startedAt!),
      finishWrite: latency((t) => t.mtime - t.record.finishedAt!),
      total: latency((t) => t.mtime - t.record.createdAt),
    },
    zk: {
      ...activity,
      transactionsPerTask: perTask(activity.transactions),
      writeRequestsPerTask: perTask(activity.writeRequests),
      readRequestsPerTask: perTask(activity.readRequests),
      packetsPerTask: perTask(activity.packetsReceived),
      bytesReceivedPerTask: perTask(activity.bytesReceived),
      requestsPerTaskByProcess: Object.fromEntries(
        Object.entries(requestsByMember(consBefore, consAfter, owners)).map(([name, n]) => [
          name,
          perTask(n),
        ]),
      ),
    },
    baseline: multi
      ? {
          multiOpsPerSecond: multi.opsPerSecond,
          multiBatchesPerSecond: multi.batchesPerSecond,
          pipelinedCreatesPerSecond: baseline!.pipelinedCreates.perSecond,
          tasksPerMultiOp: round(tasksPerSecond / multi.opsPerSecond, 3),
          multiOpsBudgetPerTask: round(multi.opsPerSecond / tasksPerSecond, 1),
          tasksPerPipelinedCreate: round(tasksPerSecond / baseline!.pipelinedCreates.perSecond, 3),
        }
      : null,
    cpu: cpuReport(cpuUsage),
    zkJvm,
    serviceWarnings: bench.warnings(),
    cpuProfiles: profiles.map((file) => summarizeProfile(file)),
  };
}

/**
 * What a stalled run looks like from ZooKeeper: tasks still waiting while no
 * worker holds anything means the leader believes the workers are full (its
 * slot accounting lost track), not that work is slow.
 */
async function stallReport(bench: BenchCluster): Promise<string> {
  const zk = await bench.cluster.zk();
  const inboxes = await Promise.all(
    bench.workers.map(
      async (w) =>
        `${w.memberId} holds ${(await zk.children(`/assign/${w.memberId}`)).children.length}`,
    ),
  );
  const queue = (await zk.children('/queue')).children.length;
  return `assignment nodes now: ${inboxes.join(', ')}; unread queue entries: ${queue}`;
}

function totalRequests(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function format(r: E2eResult): string {
  const lines: string[] = [];
  lines.push(
    `End-to-end throughput — ${thousands(r.tasks)} no-op tasks, 1 ZooKeeper (fsync on), 1 scheduler, 2 workers × capacity ${r.config.capacity}; batches of ${r.config.batch}, ${r.config.inflight} in flight`,
  );
  lines.push(
    keyValues([
      ['first submit → last succeeded', `${r.seconds} s`],
      [
        'throughput',
        `${thousands(r.tasksPerSecond)} tasks/s (steady 10–90 %: ${thousands(r.steadyTasksPerSecond)} tasks/s) — target ${thousands(r.targetTasksPerSecond)}: ${r.meetsTarget ? 'met' : 'MISSED'}`,
      ],
      [
        'submission alone',
        `${r.submitSeconds} s = ${thousands(r.submitTasksPerSecond)} tasks/s accepted`,
      ],
      [
        'references (same machine kind)',
        `BullMQ ~${thousands(r.references.bullmqJobsPerSecond)} jobs/s (${round(r.tasksPerSecond / r.references.bullmqJobsPerSecond, 2)}×), pg-boss ~${thousands(r.references.pgBossJobsPerSecond)} jobs/s (${round(r.tasksPerSecond / r.references.pgBossJobsPerSecond, 2)}×)`,
      ],
    ]),
  );
  if (r.baseline) {
    const b = r.baseline;
    lines.push('', 'Against the raw ZooKeeper baseline (same server, same run):');
    lines.push(
      keyValues([
        [
          'pipelined multi (100 creates)',
          `${thousands(b.multiOpsPerSecond)} ops/s = ${thousands(b.multiBatchesPerSecond)} multis/s`,
        ],
        ['pipelined single creates', `${thousands(b.pipelinedCreatesPerSecond)} creates/s`],
        [
          'tasks/s ÷ multi ops/s',
          `${b.tasksPerMultiOp} (a task costs the time of ${b.multiOpsBudgetPerTask} raw multi ops)`,
        ],
        ['tasks/s ÷ single creates/s', `${b.tasksPerPipelinedCreate}`],
      ]),
    );
  }
  if (r.drain) {
    const d = r.drain;
    lines.push('', 'Audit drain (registry → PostgreSQL), on through the run:');
    lines.push(
      keyValues([
        ['outbox near empty', `${d.drainedSecondsAfterLastTask} s after the last task`],
        ['deepest outbox', `${thousands(d.maxOutboxDepth)} nodes`],
        ['outbox depth, per second', d.outboxDepthPerSecond.join(' ')],
        [
          'registry CPU',
          `${d.registryCpuPercentOfCore} % of a core, ${d.registryCpuMsPerTask} ms per task`,
        ],
      ]),
    );
  }
  lines.push(
    '',
    `ZooKeeper requests per task, as the services sent them (zks_zookeeper_requests_total): ${r.requestsPerTask} — ${Object.entries(
      r.requestsPerTaskByService,
    )
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}`,
  );
  const z = r.zk;
  lines.push('', 'ZooKeeper during the measurement (srvr zxid, mntr):');
  lines.push(
    table(
      ['counter', 'total', 'per task'],
      [
        [
          'transactions (zxid; a multi is one)',
          thousands(z.transactions),
          String(z.transactionsPerTask),
        ],
        ['write requests', thousands(z.writeRequests), String(z.writeRequestsPerTask)],
        ['read requests', thousands(z.readRequests), String(z.readRequestsPerTask)],
        ['packets received', thousands(z.packetsReceived), String(z.packetsPerTask)],
        ['bytes received', thousands(z.bytesReceived), String(z.bytesReceivedPerTask)],
        [
          'children watches fired',
          thousands(z.childrenWatchesFired),
          String(round(z.childrenWatchesFired / r.tasks, 2)),
        ],
        [
          'data watches fired',
          thousands(z.dataWatchesFired),
          String(round(z.dataWatchesFired / r.tasks, 2)),
        ],
        ['fsyncs', thousands(z.fsyncs), String(round(z.fsyncs / r.tasks, 3))],
        ['znodes added', thousands(z.znodesAdded), String(round(z.znodesAdded / r.tasks, 2))],
        [
          'data bytes added',
          thousands(z.dataBytesAdded),
          String(round(z.dataBytesAdded / r.tasks, 0)),
        ],
      ],
    ),
  );
  lines.push(
    `  requests per task by process: ${Object.entries(z.requestsPerTaskByProcess)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}`,
  );
  lines.push(
    `  mean fsync ${z.meanFsyncMs} ms, ${z.meanSyncBatch} txns per fsync, mean server write latency ${z.meanWriteLatencyMs} ms`,
  );
  lines.push('', 'Per-task latency (ms) from the records:');
  const names: Record<keyof E2eResult['latencyMs'], string> = {
    queued: 'created → assigned',
    assignedToStarted: 'assigned → started',
    handler: 'started → finished',
    finishWrite: 'finished → committed',
    total: 'created → committed',
  };
  lines.push(
    table(
      ['stage', 'p50', 'p90', 'p99', 'max'],
      (Object.keys(names) as Array<keyof typeof names>).map((key) => {
        const s = r.latencyMs[key];
        return [names[key], String(s.p50), String(s.p90), String(s.p99), String(s.max)];
      }),
    ),
  );
  lines.push('', `CPU over the measurement (${r.cpu.wallSeconds} s wall, 2 cores = 200 %):`);
  lines.push(cpuTable(r.cpu, r.tasks));
  lines.push(
    `  of ZooKeeper's: its JIT compiler ${r.zkJvm.compilerMs} ms, its collector ${r.zkJvm.collectorMs} ms (of ${r.zkJvm.totalMs} ms)`,
  );
  for (const [name, warnings] of Object.entries(r.serviceWarnings)) {
    lines.push(
      '',
      `${name} logged ${warnings.length} warning(s)/error(s), last: ${warnings.at(-1)}`,
    );
  }
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
