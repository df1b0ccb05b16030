/**
 * The faults, drawn from the seeded generator. The first round injects every
 * kind once in a shuffled order (so the short form covers them all); later
 * rounds pick at random. A process fault holds its slot down and brings it
 * back with the same member id in the background; ZooKeeper and PostgreSQL
 * faults restore the servers themselves; a cut-off fault holds a live
 * process's links to ZooKeeper (zk-links.ts) and heals them, the process
 * staying up. Every fault needs a live target. Failover time: from the fault
 * on the leader to a different fencing token in `/leader`. Kinds and checks:
 * docs/chaos.md.
 */
import { WaitTimeoutError, timing } from '@app/zk/testing';
import { ZkLayout } from '@app/contracts';
import type { AppExit, AppName } from '../support/app-process';
import { summarizeNodeReport } from '../support/node-report';
import { SESSION_TIMEOUT_MS, type ChaosCluster, type Slot } from './chaos-cluster';
import type { Rng } from '../support/rng';
import { pidsRunningHandlers, readExecutionLogs } from './execution-log';
import type { CutDirection } from './zk-links';

export const FAULT_KINDS = [
  'leader kill -9',
  'worker kill -9',
  'drainer kill -9',
  'leader SIGSTOP',
  'worker SIGSTOP',
  'zookeeper: 1 server down',
  'zookeeper: 2 servers down',
  'postgresql down 30 s',
  'scheduler SIGTERM',
  'worker SIGTERM',
  'registry SIGTERM',
  'worker cut off (both ways)',
  'worker cut off (to zookeeper)',
  'worker cut off (from zookeeper)',
  'leader cut off (both ways)',
  'leader cut off (to zookeeper)',
  'drainer cut off (both ways)',
  'leader SIGTERM while cut off',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The faults of a partition run (`--only-cuts`). */
export const CUT_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((kind) =>
  kind.includes('cut off'),
);

/** `<target> cut off (<direction>)`: a live process cut off ZooKeeper past the session timeout, then healed. */
function cutOf(kind: FaultKind): { target: string; direction: CutDirection } {
  const match = /^(\w+) cut off \((.+)\)$/.exec(kind);
  if (!match) throw new Error(`not a cut-off fault: ${kind}`);
  return { target: match[1], direction: match[2] as CutDirection };
}

export interface FaultRecord {
  kind: FaultKind;
  at: number;
  target: string;
  failoverMs?: number;
  /** Something the fault itself observed that breaks an invariant. */
  problem?: string;
}

const PG_OUTAGE_MS = 30_000;

export class FaultInjector {
  readonly injected: FaultRecord[] = [];
  readonly problems: string[] = [];
  private readonly background: Promise<void>[] = [];
  private pgDown = false;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly rng: Rng,
    private readonly log: (line: string) => void,
    private readonly kinds: readonly FaultKind[] = FAULT_KINDS,
  ) {}

  /** Injects faults until `until` (and at least one of each kind). */
  async run(until: number): Promise<void> {
    let round: FaultKind[] = this.rng.shuffle(this.kinds);
    let firstRound = true;
    while (firstRound || Date.now() < until) {
      if (round.length === 0) {
        firstRound = false;
        if (Date.now() >= until) break;
        round = [this.rng.pick(this.kinds)];
      }
      const kind = round.shift()!;
      // One outage at a time; after the first round, none that would outlast the window.
      const pgOutage = kind === 'postgresql down 30 s';
      if (pgOutage && (this.pgDown || (!firstRound && until - Date.now() < PG_OUTAGE_MS))) continue;
      await this.ready();
      const record = await this.inject(kind);
      this.injected.push(record);
      const took = ((Date.now() - record.at) / 1000).toFixed(1);
      this.log(
        `fault ${this.injected.length}: ${record.kind} → ${record.target}, over in ${took} s` +
          (record.failoverMs === undefined ? '' : ` (new leader after ${record.failoverMs} ms)`),
      );
      await sleep(this.rng.int(1_000, 3_000));
    }
  }

  /** Waits for the restarts and the PostgreSQL outage still under way. */
  async finish(): Promise<void> {
    await Promise.all(this.background);
  }

  /** Before a fault: a quorum, a leader, and the targets of the next fault mostly back. */
  private async ready(): Promise<void> {
    await this.cluster.zookeeper.waitForQuorum({ timeoutMs: 60_000 });
    await this.cluster.leaderSlot(60_000);
  }

  private async inject(kind: FaultKind): Promise<FaultRecord> {
    const at = Date.now();
    switch (kind) {
      case 'worker cut off (both ways)':
      case 'worker cut off (to zookeeper)':
      case 'worker cut off (from zookeeper)':
      case 'leader cut off (both ways)':
      case 'leader cut off (to zookeeper)':
      case 'drainer cut off (both ways)':
        return this.cutOff(kind);
      case 'leader kill -9': {
        const { slot, token } = await this.leader();
        const failover = this.failover(token);
        await this.down(slot, 'SIGKILL');
        return { kind, at, target: slot.id, failoverMs: await failover };
      }
      case 'worker kill -9': {
        const slot = await this.pickLive('worker');
        await this.down(slot, 'SIGKILL');
        return { kind, at, target: slot.id };
      }
      case 'drainer kill -9': {
        const slot = await this.cluster.drainerSlot();
        await this.down(slot, 'SIGKILL');
        return { kind, at, target: slot.id };
      }
      case 'leader SIGSTOP': {
        const { slot, token } = await this.leader();
        const failover = this.failover(token);
        await this.pause(slot);
        return { kind, at, target: slot.id, failoverMs: await failover };
      }
      case 'worker SIGSTOP': {
        const slot = await this.pickLive('worker');
        await this.pause(slot);
        return { kind, at, target: slot.id };
      }
      case 'zookeeper: 1 server down': {
        const index = this.rng.int(0, 2);
        await this.cluster.zookeeper.stopServer(index);
        await sleep(this.rng.int(3_000, 8_000));
        await this.cluster.zookeeper.restartServer(index);
        return { kind, at, target: `zk-${index + 1}` };
      }
      case 'zookeeper: 2 servers down': {
        const [a, b] = this.rng.shuffle([0, 1, 2]);
        await Promise.all([
          this.cluster.zookeeper.stopServer(a),
          this.cluster.zookeeper.stopServer(b),
        ]);
        await sleep(this.rng.int(4_000, 8_000));
        // No quorum: the survivor must refuse to serve (no progress is possible).
        const statuses = await this.cluster.zookeeper.statuses();
        const record: FaultRecord = { kind, at, target: `zk-${a + 1}, zk-${b + 1}` };
        if (statuses.some((status) => status !== undefined)) {
          record.problem = `a server served without a quorum: ${JSON.stringify(statuses)}`;
          this.problems.push(record.problem);
        }
        await Promise.all([
          this.cluster.zookeeper.restartServer(a, { awaitServing: false }),
          this.cluster.zookeeper.restartServer(b, { awaitServing: false }),
        ]);
        await this.cluster.zookeeper.waitForQuorum({ timeoutMs: 60_000 });
        return record;
      }
      case 'postgresql down 30 s': {
        this.pgDown = true;
        await this.cluster.postgres.stop();
        const before = await this.outboxDepth();
        this.background.push(
          sleep(PG_OUTAGE_MS).then(async () => {
            // Invariant 5: with PostgreSQL down the events wait in ZooKeeper.
            const after = await this.outboxDepth();
            if (before !== undefined && after !== undefined && after <= before) {
              this.problems.push(
                `the outbox did not grow while PostgreSQL was down (${before} → ${after} nodes)`,
              );
            }
            await this.cluster.postgres.start();
            this.pgDown = false;
            this.log('postgresql is back');
          }),
        );
        return { kind, at, target: 'postgresql' };
      }
      case 'scheduler SIGTERM':
      case 'worker SIGTERM':
      case 'registry SIGTERM': {
        const app = kind.split(' ')[0] as AppName;
        const info = await this.cluster.leaderInfo();
        const slot = await this.pickLive(app);
        const leading = app === 'scheduler' && info?.id === slot.id;
        const failover = leading ? this.failover(info.fencingToken) : undefined;
        const problem = await this.terminate(slot);
        return this.withProblem({ kind, at, target: slot.id, failoverMs: await failover }, problem);
      }
      case 'leader SIGTERM while cut off': {
        // Shutdown must be bounded whatever ZooKeeper does (chaos seed 294775684).
        const { slot, token } = await this.leader();
        const failover = this.failover(token);
        this.cluster.links.cut(slot.id, 'both ways');
        let problem: string | undefined;
        try {
          await sleep(this.rng.int(200, 2_500));
          problem = await this.terminate(slot);
        } finally {
          this.cluster.links.heal(slot.id);
        }
        return this.withProblem({ kind, at, target: slot.id, failoverMs: await failover }, problem);
      }
    }
  }

  /** SIGTERM: a clean exit within 45 s, or the problem (a process that hangs is killed). */
  private async terminate(slot: Slot): Promise<string | undefined> {
    const exit = await this.down(slot, 'SIGTERM');
    if (typeof exit === 'string') return exit;
    // Nest re-raises the signal once its shutdown hooks ran; the worker exits 0 itself.
    if (exit.code !== 0 && exit.signal !== 'SIGTERM')
      return `${slot.id} exited with code ${exit.code} (signal ${exit.signal}) on SIGTERM`;
    return undefined;
  }

  private withProblem(record: FaultRecord, problem: string | undefined): FaultRecord {
    if (problem === undefined) return record;
    this.problems.push(problem);
    return { ...record, problem };
  }

  /**
   * Cuts a live process off ZooKeeper for longer than the session timeout,
   * then heals the link; the process stays up throughout and must come back by
   * itself (a worker aborts its handlers when its session is lost, before the
   * leader can see it gone; a leader or drainer stops its term).
   */
  private async cutOff(kind: FaultKind): Promise<FaultRecord> {
    const at = Date.now();
    const { target, direction } = cutOf(kind);
    let slot: Slot;
    let failover: Promise<number> | undefined;
    if (target === 'leader') {
      const leader = await this.leader();
      slot = leader.slot;
      failover = this.failover(leader.token);
    } else if (target === 'drainer') {
      slot = await this.cluster.drainerSlot();
    } else {
      slot = await this.busyWorker();
    }
    // Not held: the process stays up, and an exit while cut off is a crash.
    this.cluster.links.cut(slot.id, direction);
    try {
      await sleep(SESSION_TIMEOUT_MS + this.rng.int(1_500, 3_500));
    } finally {
      this.cluster.links.heal(slot.id);
    }
    return { kind, at, target: slot.id, failoverMs: failover && (await failover) };
  }

  /** A live worker with handlers running now (by its execution log), else any live worker. */
  private async busyWorker(): Promise<Slot> {
    const busyPids = pidsRunningHandlers(readExecutionLogs(this.cluster.execLogDir));
    const busy = this.cluster
      .of('worker')
      .filter((slot) => slot.process?.isRunning && !slot.held && busyPids.has(slot.process.pid));
    return busy.length > 0 ? this.rng.pick(busy) : this.pickLive('worker');
  }

  /** Outbox nodes now; undefined while ZooKeeper cannot say (quorum lost). */
  private async outboxDepth(): Promise<number | undefined> {
    try {
      const zk = await this.cluster.local.zk();
      return (await zk.exists(ZkLayout.outbox))?.numChildren;
    } catch {
      return undefined;
    }
  }

  /**
   * A running slot of the kind, not held down by a fault (the restarts run in
   * the background): waits for one. Never a slot that is down: signalling it
   * would signal nothing (seed 888066772 took an old `kill -9` exit of a
   * registry for the outcome of a SIGTERM).
   */
  private async pickLive(app: AppName): Promise<Slot> {
    const live = (): Slot[] =>
      this.cluster.of(app).filter((slot) => slot.process?.isRunning && !slot.held);
    await timing.waitFor(() => live().length > 0, {
      timeoutMs: 120_000,
      intervalMs: 100,
      message: `no live ${app} to inject a fault into`,
    });
    return this.rng.pick(live());
  }

  /** Signals a slot's process, then brings the slot back after a short while (in the background). */
  private async down(slot: Slot, signal: 'SIGKILL' | 'SIGTERM'): Promise<AppExit | string> {
    slot.held = true;
    const process = slot.process!;
    let exit: AppExit | string;
    try {
      exit = (await process.signal(signal))!;
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      // Its output (kept in the slot's log, with ShutdownWatch's lines) and a
      // diagnostic report say where the shutdown hung.
      const report = await process.diagnose();
      exit = `${slot.id} (pid ${process.pid}) did not exit within 45 s of ${signal}: killed`;
      if (report !== undefined) {
        const summary = summarizeNodeReport(report);
        this.log(`${exit}\n${summary}`);
        exit += ` (${report})`;
      }
      await process.signal('SIGKILL');
    }
    const downMs = this.rng.int(500, 3_000);
    this.background.push(sleep(downMs).then(() => this.cluster.relaunch(slot)));
    return exit;
  }

  /** SIGSTOP past the session timeout, then SIGCONT: the process comes back as a zombie and must be fenced. */
  private async pause(slot: Slot): Promise<void> {
    const process = slot.process!;
    const from = Date.now();
    await process.signal('SIGSTOP');
    await sleep(SESSION_TIMEOUT_MS + this.rng.int(1_500, 3_500));
    await process.signal('SIGCONT');
    this.cluster.timeline.pauses.push({ pid: process.pid, from, to: Date.now() });
  }

  /** The leader now, read once: its slot and its fencing token. */
  private async leader(): Promise<{ slot: Slot; token: string }> {
    return timing.waitFor(
      async () => {
        const info = await this.cluster.leaderInfo();
        const slot = info && this.cluster.slotOf(info.id);
        return slot?.process?.isRunning ? { slot, token: info!.fencingToken } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, message: 'no live leader' },
    );
  }

  /** Resolves with the time until a fencing token other than `before` leads (measured from now). */
  private async failover(before: string): Promise<number> {
    const started = Date.now();
    await timing.waitFor(
      async () => {
        const info = await this.cluster.leaderInfo();
        return (
          info !== undefined &&
          info.fencingToken !== before &&
          this.cluster.slotOf(info.id)?.process?.isRunning
        );
      },
      { timeoutMs: 60_000, intervalMs: 20, message: 'no new leader after a fault on the leader' },
    );
    return Date.now() - started;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
