import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { table } from './table';

/** Clock ticks per second of /proc times (sysconf(_SC_CLK_TCK), 100 on Linux in practice). */
const TICKS_PER_SECOND = ((): number => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat
 * (threads included: a JVM's GC and I/O threads count). Undefined once it is gone.
 */
export function processCpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return statCpuMs(stat);
}

/** User + system CPU (ms) in the text of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat. */
export function statCpuMs(stat: string): number {
  // The command name (field 2) may hold spaces: count fields after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14 of the whole line
  const stime = Number(fields[12]); // field 15
  return ((utime + stime) * 1_000) / TICKS_PER_SECOND;
}

/**
 * CPU time (ms) of every process named `command` so far, with what the children
 * they reaped had used (PostgreSQL's backends: a connection that ended counts).
 */
export function commandCpuMs(command: string): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== command) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1_000) / TICKS_PER_SECOND;
}

/** Interrupt time of the whole machine so far (irq + softirq, ms): loopback traffic is handled there. */
export function machineInterruptMs(): number {
  const [, , , , , irq, softirq] = cpuLine();
  return ((irq + softirq) * 1_000) / TICKS_PER_SECOND;
}

function cpuLine(): number[] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]; // "cpu  user nice system idle iowait irq softirq steal…"
  return line.trim().split(/\s+/).slice(1).map(Number);
}

/** Busy CPU time of the whole machine so far (ms, every core), from /proc/stat. */
export function machineBusyMs(): number {
  const [user, nice, system, , , irq, softirq, steal] = cpuLine();
  return ((user + nice + system + irq + softirq + (steal ?? 0)) * 1_000) / TICKS_PER_SECOND;
}

/** One named process watched over an interval. */
export interface WatchedProcess {
  name: string;
  pid: number;
}

export interface CpuUsage {
  name: string;
  pid: number;
  /** CPU seconds used in the interval. */
  cpuSeconds: number;
  /** Share of one core over the interval (100 = one core busy all the time). */
  percentOfCore: number;
}

/** Reads every process's CPU now; `usage()` gives what each used since. */
export class CpuMeter {
  private readonly startedAt = performance.now();
  private readonly before: Map<number, number>;
  private readonly selfBefore = process.cpuUsage();
  private readonly machineBefore = machineBusyMs();
  private readonly interruptsBefore = machineInterruptMs();
  private readonly postgresBefore: number | undefined;

  /** `postgres`: also PostgreSQL's processes together (when the benchmark's services use it). */
  constructor(
    private readonly processes: readonly WatchedProcess[],
    options: { postgres?: boolean } = {},
  ) {
    this.before = new Map(processes.map((p) => [p.pid, processCpuMs(p.pid) ?? 0]));
    if (options.postgres) this.postgresBefore = commandCpuMs('postgres');
  }

  /**
   * Per process, then this benchmark process, PostgreSQL's processes and the
   * machine's interrupt handling (loopback traffic) when asked, then everything
   * else the machine ran meanwhile (other users' work: noise in the figures),
   * with the wall time. PostgreSQL serves other users too: read it as an upper bound.
   */
  usage(): { wallSeconds: number; processes: CpuUsage[] } {
    const wallMs = performance.now() - this.startedAt;
    const rows: CpuUsage[] = this.processes.map(({ name, pid }) => {
      const ms = (processCpuMs(pid) ?? this.before.get(pid) ?? 0) - (this.before.get(pid) ?? 0);
      return usageRow(name, pid, ms, wallMs);
    });
    const self = process.cpuUsage(this.selfBefore);
    rows.push(
      usageRow('bench (this process)', process.pid, (self.user + self.system) / 1_000, wallMs),
    );
    if (this.postgresBefore !== undefined) {
      const ms = commandCpuMs('postgres') - this.postgresBefore;
      rows.push(usageRow('postgresql (every process)', POSTGRES_ROW, ms, wallMs));
      const interrupts = machineInterruptMs() - this.interruptsBefore;
      rows.push(usageRow('kernel interrupts (irq + softirq)', INTERRUPTS_ROW, interrupts, wallMs));
    }
    const ours = rows.reduce((sum, row) => sum + row.cpuSeconds * 1_000, 0);
    const others = Math.max(0, machineBusyMs() - this.machineBefore - ours);
    rows.push(usageRow('other processes on the machine', 0, others, wallMs));
    return { wallSeconds: Math.round(wallMs) / 1_000, processes: rows };
  }
}

/** Rows that are no one process: their `pid` says which. */
const POSTGRES_ROW = -1;
const INTERRUPTS_ROW = -2;

function usageRow(name: string, pid: number, cpuMs: number, wallMs: number): CpuUsage {
  return {
    name,
    pid,
    cpuSeconds: Math.round(cpuMs) / 1_000,
    percentOfCore: Math.round((cpuMs / Math.max(1, wallMs)) * 1_000) / 10,
  };
}

export interface CpuReport {
  wallSeconds: number;
  processes: CpuUsage[];
  /** The benchmark's processes together (ZooKeeper, services, this one), % of one core. */
  totalPercentOfCore: number;
  /** Everything else on the machine meanwhile, % of one core. */
  othersPercentOfCore: number;
}

/** The benchmark's own processes: all but pid 0, the rest of the machine (noise). */
export function benchmarkProcesses(report: Pick<CpuReport, 'processes'>): CpuUsage[] {
  return report.processes.filter((p) => p.pid !== 0);
}

export function cpuReport(usage: ReturnType<CpuMeter['usage']>): CpuReport {
  const ours = benchmarkProcesses(usage);
  const others = usage.processes.find((p) => p.pid === 0);
  return {
    ...usage,
    totalPercentOfCore: Math.round(ours.reduce((sum, p) => sum + p.percentOfCore, 0) * 10) / 10,
    othersPercentOfCore: others?.percentOfCore ?? 0,
  };
}

/** CPU seconds spread over `tasks`, in whole µs per task. */
export function microsPerTask(cpuSeconds: number, tasks: number): number {
  return Math.round((cpuSeconds * 1e6) / tasks);
}

/**
 * The report as a table; with `tasks`, each process's CPU per task too (µs),
 * the figure to compare across runs and with the peers' whole-system cost.
 */
export function cpuTable(report: CpuReport, tasks?: number): string {
  const ours = benchmarkProcesses(report);
  const perTask = (cpuSeconds: number): string[] =>
    tasks === undefined ? [] : [String(microsPerTask(cpuSeconds, tasks))];
  const total = ours.reduce((sum, p) => sum + p.cpuSeconds, 0);
  return table(
    ['process', 'pid', 'CPU s', '% of a core', ...(tasks === undefined ? [] : ['µs per task'])],
    [
      ...ours.map((p) => [
        p.name,
        p.pid > 0 ? String(p.pid) : '',
        String(p.cpuSeconds),
        String(p.percentOfCore),
        ...perTask(p.cpuSeconds),
      ]),
      ['total of the benchmark', '', '', String(report.totalPercentOfCore), ...perTask(total)],
      ['other processes on the machine (noise)', '', '', String(report.othersPercentOfCore)],
    ],
  );
}
