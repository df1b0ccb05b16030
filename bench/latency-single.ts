/**
 * Single-task latency, like the peers' `latency_single` (../shared/peers):
 * one no-op task at a time through `POST /v1/tasks`; each is sent once the
 * previous one has finished, plus a 5 ms gap; 20 warm-up tasks first, not
 * counted. The latency runs from just before the POST to the handler's start
 * (`startedAt` of the record, stamped by the worker as the handler begins, on
 * the same host clock): it includes the enqueue round trip, shown on its own.
 *
 *   npm run bench:latency -- --tasks 500
 *
 * One ZooKeeper server (fsync on), one scheduler, two workers and, by default,
 * a registry draining the audit outbox (`--registry 0`: none). Where the time
 * goes comes from the records: created → assigned (the API's write, the
 * leader's intake and its assignment write), assigned → started (the worker).
 * The end of each task is seen through a data watch on its node (one `get`
 * from the benchmark's own session). Times are whole milliseconds (the
 * records' resolution).
 *
 * Prints tables, then ONE JSON line `{"bench":"latency-single",...}` last.
 */
import type { TaskRecord } from '@app/contracts';
import type { SubmittedTaskView } from '@app/contracts/dto/scheduler-api';
import { ZkLayout } from '@app/contracts';
import { decodeJson } from '@app/store';
import type { ZkClient } from '@app/zk';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchCluster, request, zkRequestsOf } from './support/bench-cluster';
import { parseOptions } from './support/cli-options';
import { STORE_WARMUP_OPTION } from './support/store-warmup';
import { runMain } from './support/run-main';
import { CpuMeter, cpuReport, cpuTable, type CpuReport } from './support/process-cpu';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile-top';
import { summarize, type Summary } from './support/stats';
import { keyValues, table } from './support/table';
import { zkActivity } from './support/zk-counters';

const OPTIONS = [
  { name: 'tasks', help: 'tasks measured', fallback: 500, min: 1 },
  STORE_WARMUP_OPTION,
  { name: 'warmup', help: 'tasks run (and not measured) first', fallback: 20 },
  { name: 'gap', help: 'pause between one task finishing and the next (ms)', fallback: 5 },
  { name: 'registry', help: '1: run a registry draining the audit outbox; 0: none', fallback: 1 },
  { name: 'session-timeout', help: 'ZK_SESSION_TIMEOUT_MS of the services', fallback: 10_000 },
  {
    name: 'profile',
    help: '1: record V8 CPU profiles of the services over the measurement',
    fallback: 0,
  },
] as const;

type OptionName = (typeof OPTIONS)[number]['name'];

/** The bars of issue 11 for one task at a time. */
const BARS = { p50: 5, p99: 15 } as const;

export interface LatencyResult {
  bench: 'latency-single';
  config: Record<OptionName, number>;
  /** POST → handler start (ms). */
  latencyMs: Summary;
  /** The POST's own round trip (ms). */
  enqueueCallMs: Summary;
  /** From the records (ms): API write → leader's assignment → handler start. */
  stagesMs: {
    sentToCreated: Summary;
    createdToAssigned: Summary;
    assignedToStarted: Summary;
    /** The API's stamp → ZooKeeper's (the node's ctime): the request's way into ZooKeeper. */
    createdToZkStamp: Summary;
    /** ZooKeeper's stamp → handler start: commit (fsync), the watch event, the worker's reads. */
    zkStampToStarted: Summary;
  };
  /**
   * ZooKeeper's own view (mntr): one fsynced write lies on the path when the
   * leader's API creates the task already assigned, two otherwise (the API's, the leader's).
   */
  zk: { meanFsyncMs: number; meanWriteLatencyMs: number };
  bars: typeof BARS;
  meetsBars: boolean;
  /** ZooKeeper requests per task each service sent, by operation (zks_zookeeper_requests_total). */
  requestsPerTask: Record<string, Record<string, number>>;
  cpu: CpuReport;
  /** With `--profile 1`: the hottest functions of each service over the measurement. */
  cpuProfiles: ProfileSummary[];
}

async function main(): Promise<void> {
  const options = parseOptions<OptionName>(OPTIONS);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const profileDir = options.profile
    ? join(tmpdir(), `zks-bench-profile-${Date.now()}`)
    : undefined;
  const bench = await BenchCluster.start({
    sessionTimeoutMs: options['session-timeout'],
    storeWarmupS: options['store-warmup'],
    profileDir,
    log,
  });
  try {
    await bench.startServices(1, 2);
    if (options.registry) {
      await bench.add('registry');
      await bench.cluster.drainer(60_000);
    }
    const result = await measure(bench, options, log);
    process.stdout.write(`${format(result)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await bench.close();
  }
}

interface Sample {
  sentAt: number;
  latency: number;
  enqueueCall: number;
  record: TaskRecord;
  /** ZooKeeper's stamp of the task node's creation (its leader, as the write entered the pipeline). */
  ctime: number;
}

async function measure(
  bench: BenchCluster,
  options: Record<OptionName, number>,
  log: (line: string) => void,
): Promise<LatencyResult> {
  const zk = await bench.cluster.zk();
  const scheduler = bench.schedulers[0];
  const one = async (): Promise<Sample> => {
    const sentAt = Date.now();
    const submitted = await request<SubmittedTaskView>(scheduler, 'POST', '/v1/tasks', {
      type: 'noop',
      payload: {},
    });
    const enqueueCall = Date.now() - sentAt;
    const { record, ctime } = await whenStarted(zk, submitted.id);
    return { sentAt, latency: record.startedAt! - sentAt, enqueueCall, record, ctime };
  };
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, options.gap));
  log(`warm-up: ${options.warmup} tasks, one at a time…`);
  for (let i = 0; i < options.warmup; i++) {
    await one();
    await pause();
  }
  log(`measuring: ${options.tasks} tasks, one at a time, ${options.gap} ms apart…`);
  const cpu = new CpuMeter(bench.watched());
  const zkBefore = await bench.counters();
  const services = bench.cluster.processes.filter((p) => p.isRunning);
  const requestsBefore = await Promise.all(services.map(zkRequestsOf));
  bench.startProfiles();
  const samples: Sample[] = [];
  for (let i = 0; i < options.tasks; i++) {
    samples.push(await one());
    await pause();
  }
  const cpuUsage = cpu.usage();
  const requestsAfter = await Promise.all(services.map(zkRequestsOf));
  const profiles = await bench.stopProfiles();
  const activity = zkActivity(zkBefore, await bench.counters());
  const latencyMs = summarize(samples.map((s) => s.latency));
  return {
    bench: 'latency-single',
    config: options,
    latencyMs,
    enqueueCallMs: summarize(samples.map((s) => s.enqueueCall)),
    stagesMs: {
      sentToCreated: summarize(samples.map((s) => s.record.createdAt - s.sentAt)),
      createdToAssigned: summarize(samples.map((s) => s.record.assignedAt! - s.record.createdAt)),
      assignedToStarted: summarize(samples.map((s) => s.record.startedAt! - s.record.assignedAt!)),
      createdToZkStamp: summarize(samples.map((s) => s.ctime - s.record.createdAt)),
      zkStampToStarted: summarize(samples.map((s) => s.record.startedAt! - s.ctime)),
    },
    zk: { meanFsyncMs: activity.meanFsyncMs, meanWriteLatencyMs: activity.meanWriteLatencyMs },
    bars: BARS,
    meetsBars: latencyMs.p50 <= BARS.p50 && latencyMs.p99 <= BARS.p99,
    requestsPerTask: Object.fromEntries(
      services.map((service, i) => [
        service.memberId,
        perTask(requestsBefore[i], requestsAfter[i], options.tasks),
      ]),
    ),
    cpu: cpuReport(cpuUsage),
    cpuProfiles: profiles.map((file) => summarizeProfile(file)),
  };
}

/** Each operation's count per task between two readings of a service's counters. */
function perTask(
  before: Record<string, number>,
  after: Record<string, number>,
  tasks: number,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [op, count] of Object.entries(after)) {
    const delta = count - (before[op] ?? 0);
    if (delta > 0) counts[op] = Math.round((delta / tasks) * 100) / 100;
  }
  return counts;
}

/** The record once its handler has started (a data watch on the node, read again on each change). */
async function whenStarted(
  zk: ZkClient,
  id: string,
): Promise<{ record: TaskRecord; ctime: number }> {
  for (;;) {
    let changed!: () => void;
    const change = new Promise<void>((resolve) => (changed = resolve));
    const { data, stat } = await zk.get(ZkLayout.task(id), () => changed());
    const record = decodeJson<TaskRecord>(data);
    if (record.startedAt !== undefined) return { record, ctime: stat.ctime };
    if (record.state === 'failed' || record.state === 'cancelled')
      throw new Error(`task ${id} ended ${record.state} without starting`);
    await change;
  }
}

function format(r: LatencyResult): string {
  const row = (name: string, s: Summary): string[] => [
    name,
    String(s.p50),
    String(s.p90),
    String(s.p99),
    String(s.max),
  ];
  return [
    `Single-task latency — ${r.config.tasks} no-op tasks one at a time (${r.config.warmup} warm-up), 1 ZooKeeper (fsync on), 1 scheduler, 2 workers${r.config.registry ? ', drain on' : ''}`,
    table(
      ['ms', 'p50', 'p90', 'p99', 'max'],
      [
        row('POST → handler start', r.latencyMs),
        row('  POST round trip', r.enqueueCallMs),
        row('  POST → created', r.stagesMs.sentToCreated),
        row('  created → assigned', r.stagesMs.createdToAssigned),
        row('  assigned → started', r.stagesMs.assignedToStarted),
        row('  created → ZooKeeper stamp', r.stagesMs.createdToZkStamp),
        row('  ZooKeeper stamp → started', r.stagesMs.zkStampToStarted),
      ],
    ),
    keyValues([
      [
        'ZooKeeper (mntr)',
        `mean fsync ${r.zk.meanFsyncMs} ms, mean server write latency ${r.zk.meanWriteLatencyMs} ms (one write precedes a start when the task is created assigned, two otherwise)`,
      ],
      [
        'bars (issue 11)',
        `p50 ≤ ${r.bars.p50} ms and p99 ≤ ${r.bars.p99} ms: ${r.meetsBars ? 'met' : 'MISSED'}`,
      ],
    ]),
    '',
    'ZooKeeper requests per task, as each service sent them:',
    table(
      ['service', 'total', 'by operation'],
      Object.entries(r.requestsPerTask).map(([name, ops]) => [
        name,
        (Math.round(Object.values(ops).reduce((a, b) => a + b, 0) * 100) / 100).toString(),
        Object.entries(ops)
          .map(([op, n]) => `${op} ${n}`)
          .join(', '),
      ]),
    ),
    '',
    `CPU over the measurement (${r.cpu.wallSeconds} s wall, 2 cores = 200 %):`,
    cpuTable(r.cpu, r.config.tasks),
    ...r.cpuProfiles.flatMap((profile) => ['', formatProfile(profile)]),
  ].join('\n');
}

runMain(module, main);
