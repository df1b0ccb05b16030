import { Logger } from '@nestjs/common';
import {
  BadVersionError,
  ClientClosedError,
  NoNodeError,
  Op,
  SessionExpiredError,
  isRetryable,
  type ZkClient,
  type ZkOp,
} from '@app/zk';
import { ZkLayout, type TaskRecord } from '@app/contracts';
import { decodeJson, encodeJson, type WriteBatcher } from '@app/store';
import { membersHolding } from './gang-transitions';
import type { Change, HeldTask, WriteOutcome } from './held-task';
import { ReportChanges } from './report-changes';
import { messageOf } from './task-transitions';

/** Re-reads a gang member may do when other members write in between. */
const MAX_GANG_REFRESHES = 50;
/** Writes whose outcome was unknown (connection loss) that are checked and sent again. */
const MAX_UNKNOWN_OUTCOMES = 5;

/**
 * Writes a task's status (protocol steps 3, 4, 9) through the WriteBatcher, one
 * compare-and-set on the version held, tracking the version after each write.
 *
 * - The `running` write waits one turn of the event loop: a task that finishes
 *   within it (a no-op) is written once, start and finish folded together.
 * - A rejected write (BadVersionError, NoNodeError) means this worker no
 *   longer holds the task: `stale`, never retried. A gang member is the
 *   exception: the other members write the same record, so it re-reads and
 *   applies its change again, as long as the record is still this attempt's
 *   and its own assignment still exists (checked in the same transaction).
 * - A write whose outcome is unknown (connection loss) is settled by reading
 *   the record back: ours (byte-equal), untouched (sent again) or moved (stale).
 */
export class StatusReporter {
  private readonly logger = new Logger(StatusReporter.name);
  private startQueue: HeldTask[] = [];
  private startsScheduled = false;

  constructor(
    private readonly client: ZkClient,
    private readonly writes: WriteBatcher,
    private readonly changes: ReportChanges,
    private readonly workerId: string,
    /** Called when a `running` write is rejected: the task is no longer ours. */
    private readonly onStartRejected: (task: HeldTask) => void,
  ) {}

  /** Step 3: the `running` write goes out on the next turn unless the finish takes it along. */
  started(task: HeldTask): void {
    task.start = { state: 'queued', change: this.changes.started(task) };
    this.startQueue.push(task);
    if (this.startsScheduled) return;
    this.startsScheduled = true;
    setImmediate(this.flushStarts);
  }

  /** Steps 4 and 9: the write that ends this worker's attempt. */
  async finish(task: HeldTask, change: Change): Promise<WriteOutcome> {
    const start = task.start;
    if (start?.state === 'queued') {
      task.start = { state: 'done' };
      return this.commit(task, ReportChanges.fold(start.change, change));
    }
    if (start?.state === 'in_flight') {
      const outcome = await start.written;
      if (outcome !== 'written') return outcome;
    }
    return this.commit(task, change);
  }

  private readonly flushStarts = (): void => {
    this.startsScheduled = false;
    const queue = this.startQueue;
    this.startQueue = [];
    for (const task of queue) {
      const start = task.start;
      if (start?.state !== 'queued' || task.dropped) continue;
      const written = this.commit(task, start.change).then((outcome) => {
        task.start = { state: 'done' };
        if (outcome === 'stale') this.onStartRejected(task);
        return outcome;
      });
      task.start = { state: 'in_flight', written };
    }
  };

  private async commit(task: HeldTask, change: Change): Promise<WriteOutcome> {
    const taskPath = ZkLayout.task(task.id);
    let current = task.record;
    let version = task.version;
    let refreshes = 0;
    let unknownOutcomes = 0;
    for (;;) {
      if (task.dropped) return 'dropped';
      const next = change.apply(current);
      const data = encodeJson(next);
      const ops = [Op.set(taskPath, data, version), ...this.assignmentOps(task, change, current)];
      try {
        await this.writes.submit({
          ops,
          events: change.events(next),
          ...(change.notify ? { notify: [task.id] } : {}),
        });
        task.record = next;
        task.version = version + 1;
        return 'written';
      } catch (error) {
        if (task.dropped) return 'dropped';
        if (error instanceof SessionExpiredError || error instanceof ClientClosedError) {
          return 'dropped';
        }
        let fresh: { record: TaskRecord; version: number; data: Buffer } | undefined;
        if (error instanceof BadVersionError || error instanceof NoNodeError) {
          if (!task.gang || !this.mayRetryGang(task, error, ops)) return this.stale(task, error);
          if (++refreshes > MAX_GANG_REFRESHES) return this.stale(task, error);
          fresh = await this.read(task);
        } else if (isRetryable(error)) {
          if (++unknownOutcomes > MAX_UNKNOWN_OUTCOMES) return this.stale(task, error);
          fresh = await this.read(task);
          if (fresh?.data.equals(data)) {
            task.record = next;
            task.version = fresh.version;
            return 'written';
          }
          // Not applied: the same write goes again.
          if (fresh?.version === version) continue;
          if (!task.gang) return this.stale(task, error);
        } else {
          this.logger.warn({ msg: 'task status write failed', ...this.context(task, error) });
          return 'stale';
        }
        if (task.dropped) return 'dropped';
        if (fresh === undefined || !this.stillOurs(task, fresh.record)) {
          return this.stale(task, error);
        }
        current = fresh.record;
        version = fresh.version;
      }
    }
  }

  /** The assignment ops of a change; our own assignment is always among them. */
  private assignmentOps(task: HeldTask, change: Change, current: TaskRecord): ZkOp[] {
    const own = ZkLayout.assignment(this.workerId, task.id);
    switch (change.release) {
      case 'check':
        return [Op.check(own)];
      case 'own':
        return [Op.delete(own)];
      case 'gang': {
        if (!task.gang) return [Op.delete(own)];
        const holding = membersHolding(current);
        if (!holding.includes(this.workerId)) holding.push(this.workerId);
        return holding.map((worker) => Op.delete(ZkLayout.assignment(worker, task.id)));
      }
    }
  }

  /**
   * For a gang member: a version moved by another member, or another member's
   * assignment already gone, is worth a fresh look; the task node or our own
   * assignment gone is not.
   */
  private mayRetryGang(task: HeldTask, error: BadVersionError | NoNodeError, ops: ZkOp[]): boolean {
    const index = error.opIndex ?? 0;
    if (index === 0) return error instanceof BadVersionError;
    return ops[index]?.path !== ZkLayout.assignment(this.workerId, task.id);
  }

  private stillOurs(task: HeldTask, record: TaskRecord): boolean {
    return (
      record.attempt === task.attempt &&
      (record.state === 'assigned' || record.state === 'running') &&
      (task.gang ? (record.workers ?? []).includes(this.workerId) : true)
    );
  }

  private async read(
    task: HeldTask,
  ): Promise<{ record: TaskRecord; version: number; data: Buffer } | undefined> {
    try {
      const { data, stat } = await this.client.get(ZkLayout.task(task.id));
      return { record: decodeJson<TaskRecord>(data), version: stat.version, data };
    } catch (error) {
      // Gone, or unreadable now: either way this worker cannot tell it still holds the task.
      if (!(error instanceof NoNodeError || error instanceof SessionExpiredError)) {
        this.logger.warn({ msg: 'could not read a task back', ...this.context(task, error) });
      }
      return undefined;
    }
  }

  private stale(task: HeldTask, error: unknown): WriteOutcome {
    if (task.dropped) return 'dropped';
    this.logger.log({
      msg: 'task status write rejected: this worker no longer holds the task; dropping it',
      ...this.context(task, error),
    });
    return 'stale';
  }

  private context(task: HeldTask, error: unknown): Record<string, unknown> {
    return {
      taskId: task.id,
      attempt: task.attempt,
      version: task.version,
      error: error instanceof Error ? `${error.name}: ${messageOf(error)}` : messageOf(error),
    };
  }
}
