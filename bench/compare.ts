/**
 * Side by side, in one window: the peers' harness (BullMQ and pg-boss,
 * `../shared/peers/run.sh`) and our benchmarks, then ratios. Figures from
 * different days (or different loads) are not comparable on a shared machine;
 * ratios from one window are.
 *
 *   npm run bench:compare                 # one pass of each (about 8 minutes)
 *   npm run bench:compare -- --runs 3     # medians of 3 of each
 *
 * The harness is looked for in PEERS_DIR, else `../shared/peers` beside the
 * repository (or beside the folder holding this worktree). When it is not
 * there, the script says how to get it and stops. When that folder is
 * read-only by its mode (its run.sh writes `results/` and installs
 * node_modules; root could write there anyway, and must not), it is
 * copied to a writable folder first (`<tmp>/zks-peers`, kept between runs so
 * its node_modules are installed once).
 *
 * Like for like: the peers run 2 workers × concurrency 50; our benchmarks run
 * 2 workers with the drain on (full audit) and 1 scheduler. Pairs measured:
 * no-op throughput (peers' `throughput_noop`, 20,000 jobs ↔ `bench:e2e`,
 * `--tasks`), one task at a time (`latency_single` ↔ `bench:latency`) and
 * fire lateness (`cron_lateness`, 200 jobs every second for 20 s ↔
 * `bench:lateness -- --jobs 200 --duration 20`).
 *
 * One ZooKeeper serves every run of ours (each under a root of its own), as
 * one Redis and one PostgreSQL serve every run of the peers': a JVM started
 * per run spent up to 60 % of its CPU in the measured window compiling (C2),
 * which a long-running server has done long before. It is warmed once
 * (`--store-warmup`, then a `bench:e2e` pass that is not counted, as the
 * peers' harness fills its queue once before it measures) before our runs.
 *
 * Prints a table, then ONE JSON line `{"bench":"compare",...}` last.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseOptions } from './support/cli-options';
import { benchmarkProcesses, microsPerTask, type CpuReport } from './support/process-cpu';
import { runMain } from './support/run-main';
import { startSharedZooKeeper } from './support/shared-zookeeper';
import { STORE_WARMUP_OPTION } from './support/store-warmup';
import { table } from './support/table';

const OPTIONS = [
  { name: 'runs', help: 'passes of each side; every figure is the median', fallback: 1, min: 1 },
  { name: 'tasks', help: 'no-op tasks of bench:e2e (the peers run 20,000)', fallback: 20_000 },
  { name: 'latency-tasks', help: 'tasks of bench:latency (the peers run 500)', fallback: 500 },
  { name: 'cron-jobs', help: 'jobs of bench:lateness (the peers run 200)', fallback: 200 },
  { name: 'cron-seconds', help: 'window of bench:lateness (the peers run 20 s)', fallback: 20 },
  STORE_WARMUP_OPTION,
] as const;

/** The shared ZooKeeper's heap: the largest any of our benchmarks asks for (bench:lateness). */
const SHARED_HEAP_MB = 2_048;

type OptionName = (typeof OPTIONS)[number]['name'];

const PEER_BENCHES = ['throughput_noop', 'latency_single', 'cron_lateness'] as const;
const PEERS = ['bullmq', 'pgboss'] as const;
type Peer = (typeof PEERS)[number];

/** One figure of each side; `better` says which direction wins. */
interface Row {
  metric: string;
  better: 'higher' | 'lower';
  ours: number;
  peers: Record<Peer, number | undefined>;
}

export interface CompareResult {
  bench: 'compare';
  runs: number;
  window: { from: string; to: string; loadAverage: number[] };
  peersDir: string;
  rows: Array<Row & { ratios: Record<Peer, number | undefined> }>;
}

type JsonLine = Record<string, unknown>;

const ROOT = resolve(__dirname, '..');
const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const options = parseOptions<OptionName>(OPTIONS);
  const source = findPeers();
  if (source === undefined) {
    process.stderr.write(
      [
        'The peers harness (BullMQ and pg-boss) was not found.',
        'Put it at ../shared/peers beside the repository (run.sh, bench/, package.json),',
        'or point PEERS_DIR at it, then run `npm run bench:compare` again.',
        'Without it, our figures alone: npm run bench:e2e, npm run bench:latency, npm run bench:lateness.',
        '',
      ].join('\n'),
    );
    process.exit(2);
  }
  const peersDir = writable(source) ? source : copyOut(source);
  const from = new Date();
  const loadAtStart = loadavg();

  log(`peers (${peersDir}): ${PEER_BENCHES.join(', ')}, ${options.runs} run(s)…`);
  const peerLines = await runJsonLines('bash', [join(peersDir, 'run.sh')], {
    RUNS: String(options.runs),
    BENCHES: PEER_BENCHES.join(','),
    SYSTEMS: PEERS.join(','),
  });
  const peer = (bench: string, system: Peer, key: string): number | undefined => {
    const line = peerLines.find((l) => l.bench === bench && l.system === system);
    const value = line?.[key];
    return typeof value === 'number' ? value : undefined;
  };

  const ours = { e2e: [] as JsonLine[], latency: [] as JsonLine[], lateness: [] as JsonLine[] };
  const zookeeper = await startSharedZooKeeper(SHARED_HEAP_MB, options['store-warmup'], log);
  try {
    const ourBench = (script: string, args: Array<string | number>): Promise<JsonLine> =>
      runOurBench(script, args, zookeeper.env);
    const e2e = (): Promise<JsonLine> =>
      ourBench('bench/e2e-throughput.ts', ['--tasks', options.tasks, '--baseline', 0]);
    // As the peers' harness fills its queue once before it measures: a pass not counted.
    log('ours, a pass of bench:e2e to warm the shared ZooKeeper (not counted)…');
    await e2e();
    for (let run = 1; run <= options.runs; run++) {
      log(`ours, run ${run} of ${options.runs}: bench:e2e…`);
      ours.e2e.push(await e2e());
      log(`ours, run ${run}: bench:latency…`);
      ours.latency.push(
        await ourBench('bench/latency-single.ts', ['--tasks', options['latency-tasks']]),
      );
      log(`ours, run ${run}: bench:lateness…`);
      ours.lateness.push(
        await ourBench('bench/fire-lateness.ts', [
          '--jobs',
          options['cron-jobs'],
          '--duration',
          options['cron-seconds'],
        ]),
      );
    }
  } finally {
    await zookeeper.server.close();
  }
  const median = (lines: JsonLine[], path: string): number =>
    medianOf(lines.map((line) => Number(pick(line, path))));

  const rows: Row[] = [
    {
      metric: 'no-op tasks/s, first submit → last done',
      better: 'higher',
      ours: median(ours.e2e, 'tasksPerSecond'),
      peers: byPeer((p) => peer('throughput_noop', p, 'jobs_per_s')),
    },
    ...(['p50', 'p99'] as const).map((q): Row => ({
      metric: `one task at a time, enqueue → handler start, ${q} (ms)`,
      better: 'lower',
      ours: median(ours.latency, `latencyMs.${q}`),
      peers: byPeer((p) => peer('latency_single', p, `${q}_ms`)),
    })),
    ...(['p50', 'p99'] as const).map((q): Row => ({
      metric: `fire lateness, ${options['cron-jobs']} jobs every second, ${q} (ms)`,
      better: 'lower',
      ours: median(ours.lateness, `latenessMs.${q}`),
      peers: byPeer((p) => peer('cron_lateness', p, `${q}_ms`)),
    })),
    {
      metric: 'fire lateness: missed + duplicated',
      better: 'lower',
      ours: median(ours.lateness, 'missed.total') + median(ours.lateness, 'duplicated.total'),
      peers: byPeer((p) => {
        const missed = peer('cron_lateness', p, 'missed');
        const duplicated = peer('cron_lateness', p, 'duplicated');
        return missed === undefined || duplicated === undefined ? undefined : missed + duplicated;
      }),
    },
  ];
  const result: CompareResult = {
    bench: 'compare',
    runs: options.runs,
    window: {
      from: from.toISOString(),
      to: new Date().toISOString(),
      loadAverage: [...loadAtStart, ...loadavg()].map((l) => Math.round(l * 100) / 100),
    },
    peersDir,
    rows: rows.map((row) => ({ ...row, ratios: byPeer((p) => ratio(row, p)) })),
  };
  process.stdout.write(`${format(result, ours.e2e)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Ours ÷ theirs for "higher is better", theirs ÷ ours for "lower": above 1 means we lead. */
function ratio(row: Row, peer: Peer): number | undefined {
  const theirs = row.peers[peer];
  if (theirs === undefined || !Number.isFinite(row.ours)) return undefined;
  const value = row.better === 'higher' ? row.ours / theirs : theirs / row.ours;
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : undefined;
}

function byPeer<T>(value: (peer: Peer) => T): Record<Peer, T> {
  return { bullmq: value('bullmq'), pgboss: value('pgboss') };
}

function format(r: CompareResult, e2e: JsonLine[]): string {
  const show = (n: number | undefined): string => (n === undefined ? '–' : String(n));
  const lines = [
    `Side by side, ${r.runs === 1 ? 'one pass' : `medians of ${r.runs}`}, ${r.window.from} → ${r.window.to} (load average at start / end: ${r.window.loadAverage.join(' ')})`,
    table(
      ['metric', 'zk-scheduler', 'BullMQ', 'pg-boss', '× BullMQ', '× pg-boss'],
      r.rows.map((row) => [
        row.metric,
        show(row.ours),
        show(row.peers.bullmq),
        show(row.peers.pgboss),
        show(row.ratios.bullmq),
        show(row.ratios.pgboss),
      ]),
    ),
    '× > 1: zk-scheduler leads (throughput ours ÷ theirs; times theirs ÷ ours). A ratio of a 0 is left out.',
    `zk-scheduler runs with the audit drain on; each bench:e2e run: ${e2e
      .map(
        (line) =>
          `${String(pick(line, 'tasksPerSecond'))} tasks/s, ${String(pick(line, 'requestsPerTask'))} ZooKeeper requests per task, outbox near empty ${String(pick(line, 'drain.drainedSecondsAfterLastTask'))} s after the last task (deepest ${String(pick(line, 'drain.maxOutboxDepth'))} nodes), registry ${String(pick(line, 'drain.registryCpuPercentOfCore'))} % of a core, ZooKeeper's JIT compiler ${String(pick(line, 'zkJvm.compilerMs'))} ms of its ${String(pick(line, 'zkJvm.totalMs'))} ms, CPU per task ${cpuPerTask(line)}`,
      )
      .join('; ')}.`,
  ];
  return lines.join('\n');
}

function findPeers(): string | undefined {
  const candidates = [
    process.env.PEERS_DIR,
    join(ROOT, '..', 'shared', 'peers'),
    join(ROOT, '..', '..', 'shared', 'peers'),
  ];
  return candidates.find(
    (dir): dir is string => dir !== undefined && existsSync(join(dir, 'run.sh')),
  );
}

/** Writable by its mode, not only by access (root may write anywhere; a read-only share is still not ours to fill). */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    return false;
  }
  return (statSync(dir).mode & 0o222) !== 0;
}

/** A writable copy of a read-only harness (its node_modules and results are kept across runs). */
function copyOut(source: string): string {
  const target = join(tmpdir(), 'zks-peers');
  mkdirSync(target, { recursive: true });
  cpSync(source, target, {
    recursive: true,
    force: true,
    filter: (path) => !/[/\\](node_modules|results)([/\\]|$)/.test(path.slice(source.length)),
  });
  log(`${source} is read-only: copied to ${target}`);
  return target;
}

/** One of our benchmarks as a child process; its last stdout line is its JSON result. */
async function runOurBench(
  script: string,
  args: Array<string | number>,
  env: Record<string, string>,
): Promise<JsonLine> {
  const lines = await runJsonLines(
    process.execPath,
    ['-r', '@swc-node/register', join(ROOT, script), ...args.map(String)],
    env,
  );
  const last = lines.at(-1);
  if (!last) throw new Error(`${script} printed no JSON result`);
  return last;
}

/** Runs a command (stderr passed through) and collects the JSON objects it prints on stdout, one per line. */
function runJsonLines(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<JsonLine[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
        return;
      }
      const lines: JsonLine[] = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line) as JsonLine);
        } catch {
          // a table line that happens to start with a brace: not a result
        }
      }
      resolvePromise(lines);
    });
  });
}

/**
 * CPU per task of each kind of process in an e2e run (µs; the workers, and
 * PostgreSQL's processes, together): where a task's cost goes, to set beside
 * the peers' whole-system cost.
 */
function cpuPerTask(line: JsonLine): string {
  const tasks = Number(pick(line, 'tasks'));
  const cpu = pick(line, 'cpu') as CpuReport;
  const byKind = new Map<string, number>();
  for (const { name, cpuSeconds } of benchmarkProcesses(cpu)) {
    // `scheduler-1`, `worker-2` → scheduler, worker; `zookeeper (JVM)` → zookeeper.
    const kind = name.split(' ')[0].replace(/-\d+$/, '');
    byKind.set(kind, (byKind.get(kind) ?? 0) + cpuSeconds);
  }
  const total = [...byKind.values()].reduce((sum, seconds) => sum + seconds, 0);
  return [...byKind, ['total', total] as const]
    .map(([kind, seconds]) => `${kind} ${microsPerTask(seconds, tasks)} µs`)
    .join(', ');
}

function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function medianOf(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

runMain(module, main);
