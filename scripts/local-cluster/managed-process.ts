/**
 * A child process that `npm start` owns: started in its own process group
 * (so a Ctrl-C in the terminal reaches only `npm start`, which then stops the
 * services before ZooKeeper, in that order), and under
 * `setpriv --pdeathsig TERM` where util-linux has it, so that even a
 * `kill -9` of `npm start` makes the kernel send SIGTERM to every child.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { statSync } from 'node:fs';
import { constants } from 'node:os';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopResult extends ProcessExit {
  /** True when SIGTERM was not enough and SIGKILL ended it. */
  killed: boolean;
}

let guard: string[] | undefined;

/** `setpriv --pdeathsig TERM --` on Linux when available, else nothing. */
function parentDeathGuard(): string[] {
  if (guard === undefined) {
    guard = [];
    for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
      try {
        if (process.platform === 'linux' && statSync(candidate).isFile()) {
          guard = [candidate, '--pdeathsig', 'TERM', '--'];
          break;
        }
      } catch {
        // Try the next one.
      }
    }
  }
  return guard;
}

/** `signal SIGTERM`, `exit code 1`; a JVM's 128 + n reads `exit code 143 = SIGTERM`. */
export function describeExit(exit: ProcessExit): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  const byJvm = Object.entries(constants.signals).find(
    ([, number]) => exit.code !== null && exit.code > 128 && exit.code - 128 === number,
  );
  return `exit code ${exit.code}${byJvm ? ` = ${byJvm[0]}` : ''}`;
}

export class ManagedProcess {
  readonly exited: Promise<ProcessExit>;
  private stopping: Promise<StopResult> | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Spawns `command args` (setpriv execs it: the pid is the command's own). Resolves once it runs. */
  static async spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: Omit<SpawnOptions, 'detached'>,
  ): Promise<ManagedProcess> {
    const prefix = parentDeathGuard();
    const argv = [...prefix, command, ...args];
    const child = spawn(argv[0], argv.slice(1), { ...options, detached: true });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    });
    return new ManagedProcess(name, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stdout(): NodeJS.ReadableStream | null {
    return this.child.stdout;
  }

  get stderr(): NodeJS.ReadableStream | null {
    return this.child.stderr;
  }

  /** SIGTERM; SIGKILL to its whole group after `timeoutMs`. Resolves when it has exited. */
  stop(timeoutMs: number): Promise<StopResult> {
    this.stopping ??= this.terminate(timeoutMs);
    return this.stopping;
  }

  private async terminate(timeoutMs: number): Promise<StopResult> {
    if (!this.running) return { ...(await this.exited), killed: false };
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return { ...first, killed: false };
    signalGroup(this.pid, 'SIGKILL');
    return { ...(await this.exited), killed: true };
  }
}

/** Sends `signal` to the process group led by `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error: unknown) {
    // EPERM: the group exists (it is not ours to signal, but it is there).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
