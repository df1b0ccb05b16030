import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

export interface GroupExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process started as the leader of its own process group
 * (`detached: true`), so that the whole tree it starts can be signalled at
 * once with `kill(-pgid)`. Processes that leave the group (setsid, a double
 * fork into a new session) are beyond its reach.
 */
export class ProcessGroup {
  private closed = false;
  private readonly closedPromise: Promise<void>;

  private constructor(readonly child: ChildProcess & { pid: number }) {
    const markClosed = (): void => {
      this.closed = true;
    };
    // An 'error' after spawn (rare) also ends our interest in the pipes.
    this.closedPromise = once(child, 'close').then(markClosed, markClosed);
  }

  /** Starts `file` (no shell); rejects when it cannot be started (ENOENT, EACCES…). */
  static async start(
    file: string,
    args: readonly string[],
    options: Omit<SpawnOptions, 'detached' | 'shell'>,
  ): Promise<ProcessGroup> {
    const child = spawn(file, args, { ...options, detached: true, shell: false });
    // 'spawn' or 'error' comes first; once() rejects on 'error'.
    await once(child, 'spawn');
    if (child.pid === undefined) {
      throw new Error(`${file} started without a pid`);
    }
    return new ProcessGroup(child as ChildProcess & { pid: number });
  }

  /** Resolves when the leader exits (its descendants may still run). */
  exited(): Promise<GroupExit> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.resolve({ exitCode: this.child.exitCode, signal: this.child.signalCode });
    }
    return once(this.child, 'exit').then(([exitCode, signal]) => ({
      exitCode: exitCode as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  /** Sends `signal` to every process of the group; false when none is left. */
  signalGroup(signal: NodeJS.Signals): boolean {
    try {
      process.kill(-this.child.pid, signal);
      return true;
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') {
        return false;
      }
      throw error;
    }
  }

  /**
   * Ends the group: SIGTERM, then SIGKILL when its output pipes are still open
   * after `graceMs` (some member is alive). Resolves once the pipes are closed,
   * or after a second grace if a process that left the group still holds them
   * (then the pipes are destroyed on our side).
   */
  async terminate(graceMs: number): Promise<void> {
    if (!this.signalGroup('SIGTERM') && this.closed) {
      return;
    }
    if (await this.closedWithin(graceMs)) {
      return;
    }
    this.signalGroup('SIGKILL');
    if (await this.closedWithin(graceMs)) {
      return;
    }
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    await this.closedWithin(graceMs);
  }

  private async closedWithin(ms: number): Promise<boolean> {
    if (this.closed) {
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.closedPromise.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
