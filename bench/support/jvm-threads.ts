import { readdirSync, readFileSync } from 'node:fs';
import { statCpuMs } from './process-cpu';

/** CPU (ms) of a JVM's threads, by what they do. */
export interface JvmThreadCpu {
  /** The JIT compilers' threads (C1, C2). */
  compilerMs: number;
  /** The garbage collector's threads, and the VM thread that runs stop-the-world collections. */
  collectorMs: number;
  /** Every thread. */
  totalMs: number;
}

// Linux keeps a thread's name to 15 characters: "C2 CompilerThre", "GC Thread#0", "G1 Conc#0".
const COMPILER = /^C[12] CompilerThre/;
const COLLECTOR = /^(GC Thread|G1 |VM Thread)/;

/**
 * What a JVM's threads have used so far (/proc/<pid>/task/*): the part of a
 * ZooKeeper's CPU that is its JIT compiling and its collector, not requests.
 * Zero for a process that is gone.
 */
export function jvmThreadCpu(pid: number): JvmThreadCpu {
  const usage: JvmThreadCpu = { compilerMs: 0, collectorMs: 0, totalMs: 0 };
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return usage;
  }
  for (const tid of threads) {
    let name: string;
    let stat: string;
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const ms = statCpuMs(stat);
    usage.totalMs += ms;
    if (COMPILER.test(name)) usage.compilerMs += ms;
    else if (COLLECTOR.test(name)) usage.collectorMs += ms;
  }
  return usage;
}

/** What the JVM's threads used between `before` and now (threads that ended meanwhile are not counted). */
export function jvmThreadCpuSince(pid: number, before: JvmThreadCpu): JvmThreadCpu {
  const now = jvmThreadCpu(pid);
  return {
    compilerMs: Math.round(Math.max(0, now.compilerMs - before.compilerMs)),
    collectorMs: Math.round(Math.max(0, now.collectorMs - before.collectorMs)),
    totalMs: Math.round(Math.max(0, now.totalMs - before.totalMs)),
  };
}
