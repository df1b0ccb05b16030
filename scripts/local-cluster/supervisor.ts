/**
 * Owns every process `npm start` starts and ends them all, in order:
 * services first (SIGTERM, in parallel; a worker hands its running tasks back
 * and needs ZooKeeper for that), then the database (none yet), then
 * ZooKeeper. Each gets SIGKILL (to its whole process group) if it outlives
 * its timeout. Afterwards it checks that no process group it created has a
 * member left, and says so.
 *
 * Stops on SIGINT (Ctrl-C), SIGTERM or SIGHUP, and when npm, which runs us,
 * goes away: npm exits on SIGTERM without passing the signal on.
 */
import type { ConsoleOutput } from './console-output';
import type { LocalDatabase } from './database';
import { describeExit, signalGroup, type ManagedProcess, type StopResult } from './managed-process';
import type { ServiceProcess } from './service-process';
import type { LocalZooKeeper } from './zookeeper-server';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const PARENT_CHECK_MS = 1_000;

export class Supervisor {
  private readonly stopRequest = new AbortController();
  private readonly services: ServiceProcess[] = [];
  private zooKeeper: LocalZooKeeper | undefined;
  private database: LocalDatabase | undefined;
  private readonly started: ManagedProcess[] = [];
  private readonly parentPid = process.ppid;
  private parentWatch: NodeJS.Timeout | undefined;
  private stopped: Promise<boolean> | undefined;
  /** Set once the cluster is up: from then on a crash leaves the others running. */
  private up = false;

  constructor(
    private readonly output: ConsoleOutput,
    private readonly serviceStopTimeoutMs: number,
  ) {}

  /** Aborted when a stop was asked for; every wait of the start-up listens to it. */
  get abortSignal(): AbortSignal {
    return this.stopRequest.signal;
  }

  get stopping(): boolean {
    return this.stopRequest.signal.aborted;
  }

  /** Resolves when a stop is asked for. */
  untilStopRequested(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) =>
      this.abortSignal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }

  listen(): void {
    for (const signal of SIGNALS) {
      process.on(signal, () => this.requestStop(signal));
    }
    if (process.env.npm_lifecycle_event !== undefined) {
      this.parentWatch = setInterval(() => {
        if (process.ppid !== this.parentPid) this.requestStop('npm exited');
      }, PARENT_CHECK_MS);
      this.parentWatch.unref();
    }
  }

  requestStop(reason: string): void {
    if (this.stopping) {
      this.output.info(`${reason}: already stopping, please wait`, 'dim');
      return;
    }
    this.output.info(`${reason}: stopping every process`, 'warn');
    this.stopRequest.abort(new Error(`stopped (${reason})`));
  }

  markUp(): void {
    this.up = true;
  }

  useZooKeeper(zooKeeper: LocalZooKeeper): void {
    this.zooKeeper = zooKeeper;
    this.watch(zooKeeper.process, 'the services lose their sessions; Ctrl-C and start again');
  }

  useDatabase(database: LocalDatabase | undefined): void {
    this.database = database;
  }

  addService(service: ServiceProcess): void {
    this.services.push(service);
    this.watch(service.process, 'the other processes keep running; Ctrl-C stops them');
  }

  /** Stops everything (once); true when every process ended and none is left behind. */
  stopAll(): Promise<boolean> {
    this.stopped ??= this.stopInOrder();
    return this.stopped;
  }

  private watch(child: ManagedProcess, consequence: string): void {
    this.started.push(child);
    void child.exited.then((exit) => {
      if (this.stopping) return;
      // During the start-up a crash fails the start instead (main.ts says so).
      const then = this.up ? ` — ${consequence}` : '';
      this.output.line(child.name, `exited unexpectedly (${describeExit(exit)})${then}`, 'error');
    });
  }

  private async stopInOrder(): Promise<boolean> {
    clearInterval(this.parentWatch);
    if (!this.stopping) this.stopRequest.abort(new Error('stopped'));
    let clean = true;

    const running = this.services.filter((service) => service.process.running);
    if (running.length > 0) {
      this.output.info(`stopping ${running.map((s) => s.memberId).join(', ')} (SIGTERM)`);
    }
    const results = await Promise.all(
      running.map(async (service) => {
        const result = await service.stop(this.serviceStopTimeoutMs);
        this.report(service.memberId, result);
        return result;
      }),
    );
    clean &&= results.every((result) => !result.killed);

    await this.database?.stop();

    if (this.zooKeeper?.process.running) {
      this.output.info('stopping zookeeper (SIGTERM)');
      const result = await this.zooKeeper.stop();
      this.report('zookeeper', result);
      clean &&= !result.killed;
    }
    return this.checkNothingLeft() && clean;
  }

  private report(name: string, result: StopResult): void {
    if (result.killed) {
      this.output.line(name, `did not stop in time: killed (SIGKILL)`, 'error');
    } else {
      this.output.line(name, `stopped (${describeExit(result)})`, 'dim');
    }
  }

  /** Every process group started here must be empty now; anything left is killed and reported. */
  private checkNothingLeft(): boolean {
    const left = this.started.filter((child) => signalGroup(child.pid, 0));
    for (const child of left) {
      this.output.error(
        `${child.name}: process group ${child.pid} still has processes after the stop; killing them`,
      );
      signalGroup(child.pid, 'SIGKILL');
    }
    if (left.length === 0 && this.started.length > 0) {
      this.output.info(
        `all ${this.started.length} processes stopped, none left running (pids ${this.started
          .map((child) => child.pid)
          .join(', ')})`,
        'good',
      );
    }
    return left.length === 0;
  }
}
