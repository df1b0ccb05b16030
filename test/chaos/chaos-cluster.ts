/**
 * The cluster under test: a 3-server ZooKeeper ensemble, a throwaway
 * PostgreSQL server, 3 schedulers, 3 workers and 2 registries as separate
 * processes. Each process lives in a *slot* (fixed member id): a fault takes
 * a slot down and the run brings it back with the same id, like a container
 * restarted by its orchestrator. A process that exits without the run having
 * signalled it is an unexpected exit (a crash): counted, and restarted once
 * its slot is free again.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestingCluster, timing } from '@app/zk/testing';
import { ZkLayout, type LeaderInfo, type MemberKind } from '@app/contracts';
import { decodeJson } from '@app/store';
import { TestingPostgres } from '@app/audit/testing';
import { NoNodeError } from '@app/zk';
import type { AppName, AppProcess } from '../support/app-process';
import { LocalCluster } from '../support/local-cluster';
import type { ProcessTimeline } from './attempt-overlap';
import { ZkLinks } from './zk-links';

/** Session timeout of every service: faults are detected within a few seconds. */
export const SESSION_TIMEOUT_MS = 3_000;

const KIND: Record<AppName, MemberKind> = {
  scheduler: 'schedulers',
  worker: 'workers',
  registry: 'registries',
};

export interface Slot {
  id: string;
  app: AppName;
  env: Record<string, string>;
  process?: AppProcess;
  /** Set while the run holds the slot down on purpose (a fault). */
  held: boolean;
  starts: number;
  /** Starts that failed (e.g. no ZooKeeper quorum at the time): retried, like an orchestrator would. */
  failedStarts: number;
  /** Set when the slot could not be started again at all (a crash loop). */
  gaveUp?: string;
  unexpectedExits: Array<{ at: number; code: number | null; signal: string | null }>;
}

export class ChaosCluster {
  readonly slots: Slot[] = [];
  /** Execution logs (exec/) and each slot's process output (<slot>.log): kept when a run fails. */
  readonly outputDir = mkdtempSync(join(tmpdir(), 'zks-chaos-'));
  readonly execLogDir = join(this.outputDir, 'exec');
  zookeeper!: TestingCluster;
  postgres!: TestingPostgres;
  local!: LocalCluster;
  databaseUrl!: string;
  /** Every service reaches ZooKeeper through links the faults can cut. */
  readonly links = new ZkLinks(() => this.zookeeper.servers.map((server) => server.port));
  /** When each process exited and was frozen, for the checks (runs cut short). */
  readonly timeline: { exits: Map<number, number>; pauses: ProcessTimeline['pauses'][number][] } = {
    exits: new Map(),
    pauses: [],
  };
  private closing = false;
  private readonly restarting = new Set<Slot>();

  async start(log: (line: string) => void): Promise<void> {
    mkdirSync(this.execLogDir);
    [this.zookeeper, this.postgres] = await Promise.all([
      TestingCluster.start({ size: 3 }),
      TestingPostgres.start(),
    ]);
    this.databaseUrl = await this.postgres.createDatabase('chaos');
    log(`zookeeper ${this.zookeeper.connectString}; postgresql ${this.databaseUrl}`);
    this.local = new LocalCluster({
      connectString: this.zookeeper.connectString,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      databaseUrl: this.databaseUrl,
      entries: { worker: join(__dirname, 'worker', 'main.ts') },
      readyTimeoutMs: 90_000,
      env: { LOG_LEVEL: 'warn' },
    });
    const add = (app: AppName, index: number, env: Record<string, string>): void => {
      this.slots.push({
        id: `${app}-${index}`,
        app,
        env,
        held: false,
        starts: 0,
        failedStarts: 0,
        unexpectedExits: [],
      });
    };
    for (let i = 1; i <= 3; i++) add('scheduler', i, {});
    for (let i = 1; i <= 2; i++)
      add('registry', i, { REGISTRY_RETENTION_MS: '1000', REGISTRY_DRAIN_MAX_BACKOFF_MS: '1000' });
    for (let i = 1; i <= 3; i++)
      add('worker', i, {
        WORKER_CAPACITY: '6',
        WORKER_SHUTDOWN_GRACE_MS: '1500',
        CHAOS_EXEC_LOG_DIR: this.execLogDir,
      });
    // Two at a time: the machine may have two cores, and each start compiles the sources.
    for (let i = 0; i < this.slots.length; i += 2) {
      await Promise.all(this.slots.slice(i, i + 2).map((slot) => this.launch(slot)));
    }
    log(`started ${this.slots.map((s) => `${s.id}(pid ${s.process?.pid})`).join(', ')}`);
  }

  of(app: AppName): Slot[] {
    return this.slots.filter((slot) => slot.app === app);
  }

  slotOf(memberId: string): Slot | undefined {
    return this.slots.find((slot) => slot.id === memberId);
  }

  /** Starts the slot's process (same member id), once ZooKeeper has let its previous session go. */
  async launch(slot: Slot): Promise<void> {
    await this.memberGone(slot);
    const started = await this.local.start(slot.app, {
      ...slot.env,
      MEMBER_ID: slot.id,
      ZK_CONNECT: await this.links.connectString(slot.id),
    });
    slot.process = started;
    slot.starts++;
    slot.held = false;
    void started.exited.then((exit) => {
      this.timeline.exits.set(started.pid, Date.now());
      this.saveOutput(slot, started, `exit code ${exit.code} signal ${exit.signal}`);
      if (this.closing || slot.process !== started || slot.held) return;
      slot.unexpectedExits.push({ at: Date.now(), code: exit.code, signal: exit.signal });
      console.log(
        `!! ${slot.id} exited unexpectedly (code ${exit.code}, signal ${exit.signal}):\n${started.output.slice(-2_000)}`,
      );
      void this.relaunch(slot);
    });
  }

  /**
   * Brings a slot back (after a fault or a crash), one restart at a time per
   * slot. A start that fails (a service exits when it finds no ZooKeeper
   * session at start) is tried again after a pause, up to 10 times.
   */
  async relaunch(slot: Slot): Promise<void> {
    if (this.restarting.has(slot) || this.closing || slot.process?.isRunning) return;
    this.restarting.add(slot);
    try {
      for (let attempt = 1; !this.closing; attempt++) {
        try {
          await this.launch(slot);
          return;
        } catch (error) {
          if (this.closing) return;
          slot.failedStarts++;
          const message = error instanceof Error ? error.message : String(error);
          const why = message.split('\n')[0];
          console.log(`!! ${slot.id} did not start (attempt ${attempt}): ${why.slice(0, 300)}`);
          appendFileSync(
            join(this.outputDir, `${slot.id}.log`),
            `\n===== ${slot.id}: start attempt ${attempt} failed at ${new Date().toISOString()} =====\n${message}`,
          );
          if (attempt >= 10) {
            slot.gaveUp = `${slot.id} failed to start ${attempt} times in a row: ${why.slice(0, 300)}`;
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
      }
    } finally {
      this.restarting.delete(slot);
    }
  }

  /** Waits until the slot's member node is gone (its old session ended), so the id is free. */
  private async memberGone(slot: Slot): Promise<void> {
    const zk = await this.local.zk();
    await timing.waitFor(
      async () => {
        try {
          return (await zk.exists(ZkLayout.member(KIND[slot.app], slot.id))) === null;
        } catch {
          return false; // ZooKeeper unreachable now (quorum lost): ask again
        }
      },
      { timeoutMs: 120_000, intervalMs: 200, message: `member ${slot.id} never left` },
    );
  }

  /** Every slot has a running, ready process (faults over). */
  async allUp(timeoutMs = 180_000): Promise<void> {
    await timing.waitFor(
      async () => {
        for (const slot of this.slots) {
          if (!slot.process?.isRunning && !this.restarting.has(slot) && !slot.held)
            void this.relaunch(slot);
        }
        return this.slots.every((slot) => slot.process?.isRunning && !this.restarting.has(slot));
      },
      {
        timeoutMs,
        intervalMs: 250,
        message: () =>
          `slots down: ${this.slots
            .filter((s) => !s.process?.isRunning)
            .map((s) => s.id)
            .join(', ')}`,
      },
    );
  }

  /** Who leads now, by `/leader` (undefined while ZooKeeper cannot say). */
  async leaderInfo(): Promise<LeaderInfo | undefined> {
    try {
      const zk = await this.local.zk();
      return decodeJson<LeaderInfo>((await zk.get(ZkLayout.leader)).data);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      return undefined;
    }
  }

  /** The leading scheduler's slot, once one leads and its process runs. */
  async leaderSlot(timeoutMs = 30_000): Promise<Slot> {
    const process = await this.local.leader(timeoutMs);
    return this.slotOf(process.memberId)!;
  }

  async drainerSlot(timeoutMs = 30_000): Promise<Slot> {
    const process = await this.local.drainer(timeoutMs);
    return this.slotOf(process.memberId)!;
  }

  /** A live scheduler to send API calls to. */
  apiProcess(pick: (items: AppProcess[]) => AppProcess): AppProcess | undefined {
    const live = this.of('scheduler')
      .map((slot) => slot.process)
      .filter((p): p is AppProcess => p !== undefined && p.isRunning);
    return live.length === 0 ? undefined : pick(live);
  }

  /** Appends a process's output (its last 20 kB) to its slot's log file. */
  private saveOutput(slot: Slot, process: AppProcess, why: string): void {
    appendFileSync(
      join(this.outputDir, `${slot.id}.log`),
      `\n===== ${slot.id} pid ${process.pid}: ${why} at ${new Date().toISOString()} =====\n${process.output}`,
    );
  }

  async close(keep: boolean): Promise<void> {
    for (const slot of this.slots) {
      if (slot.process?.isRunning) this.saveOutput(slot, slot.process, 'still running at the end');
    }
    this.closing = true;
    await this.local?.close().catch(() => undefined);
    await this.links.close().catch(() => undefined);
    await this.postgres?.close().catch(() => undefined);
    await this.zookeeper?.close().catch(() => undefined);
    if (!keep) rmSync(this.outputDir, { recursive: true, force: true });
  }
}
