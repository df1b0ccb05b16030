/**
 * Child processes for multi-process tests: a TypeScript fixture file run by Node
 * (through @swc-node/register, so fixtures import `@app/zk` like any test), with
 * an IPC channel for typed messages both ways. The point of a fixture is to be
 * killed for real (`kill -9`, SIGSTOP) while it holds a ZooKeeper session.
 *
 * A fixture dies with the test process (parent-death signal plus exit hooks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parentDeathGuard, trackProcess } from './cleanup';
import { EventQueue, timing } from './timing';

export interface FixtureExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FixtureOptions {
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

export class FixtureProcess<FromChild = unknown, ToChild = unknown> {
  /** Every message the fixture sent, in order. */
  readonly messages = new EventQueue<FromChild>();
  /** Resolves when the process has exited, by whatever cause. */
  readonly exited: Promise<FixtureExit>;
  private outputTail = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message) => this.messages.push(message as FromChild));
    const keep = (chunk: Buffer): void => {
      this.outputTail = (this.outputTail + chunk.toString()).slice(-8_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  static spawn<FromChild = unknown, ToChild = unknown>(
    file: string,
    options: FixtureOptions = {},
  ): FixtureProcess<FromChild, ToChild> {
    const guard = parentDeathGuard();
    const command = [
      ...guard,
      process.execPath,
      '-r',
      '@swc-node/register',
      file,
      ...(options.args ?? []),
    ];
    const child = spawn(command[0], command.slice(1), {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    trackProcess(child);
    return new FixtureProcess<FromChild, ToChild>(child);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('fixture process has no pid (spawn failed)');
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the fixture printed last (stdout and stderr), for failure messages. */
  get output(): string {
    return this.outputTail;
  }

  send(message: ToChild): void {
    this.child.send(message as object);
  }

  /** Waits for the next message matching `predicate` (nominal timeout, scaled). */
  waitFor<T extends FromChild>(
    predicate: (message: FromChild) => message is T,
    timeoutMs?: number,
  ): Promise<T>;
  waitFor(predicate: (message: FromChild) => boolean, timeoutMs?: number): Promise<FromChild>;
  waitFor(predicate: (message: FromChild) => boolean, timeoutMs = 10_000): Promise<FromChild> {
    return this.messages.nextMatching(predicate, timeoutMs);
  }

  /** Sends `signal` (default SIGKILL, i.e. `kill -9`) and, unless it only pauses, waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<FixtureExit | undefined> {
    if (!this.isRunning) return this.exited;
    this.child.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return undefined;
    return timing.withTimeout(this.exited, 10_000, `fixture ${this.pid} did not exit on ${signal}`);
  }
}

/** The fixture side of the channel. */
export const fixtureChannel = {
  send(message: unknown): void {
    process.send?.(message);
  },
  onMessage<T>(handler: (message: T) => void): void {
    process.on('message', (message) => handler(message as T));
  },
};
