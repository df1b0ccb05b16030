import { Logger } from '@nestjs/common';
import { ClientClosedError, SessionExpiredError } from '@app/zk';
import type { TaskRecord } from '@app/contracts';
import { holdersOf, type TaskChange, type TaskWrites, type VersionedTask } from '@app/store';
import type { Change, HeldTask, WriteOutcome } from './held-task';
import { ReportChanges } from './report-changes';
import { messageOf } from './stored-outcome';

/** Writes a gang member may try when other members write in between (or outcomes are unknown). */
const MAX_TRIES = 50;

/**
 * Writes a task's status (protocol steps 3, 4, 9) through TaskWrites, one
 * compare-and-set on the version held, tracking the version after each write.
 *
 * - The `running` write waits one turn of the event loop: a task that finishes
 *   within it (a no-op) is written once, start and finish folded together.
 * - A rejected write (the record moved, the task or our assignment gone) means
 *   this worker no longer holds the task: `stale`, never retried. A gang member
 *   is the exception: the other members write the same record, so it re-reads
 *   and applies its change again, as long as the record is still this
 *   attempt's and its own assignment still exists (checked in the same
 *   transaction).
 * - A write whose outcome is unknown (connection loss) is settled by reading
 *   the record back: ours (byte-equal), untouched (sent again) or moved (stale).
 */
export class StatusReporter {
  private readonly logger = new Logger(StatusReporter.name);
  private startQueue: HeldTask[] = [];
  private startsScheduled = false;

  constructor(
    private readonly tasks: TaskWrites,
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
    let outcome;
    try {
      outcome = await this.tasks.update(
        task.id,
        (current) =>
          task.dropped || !this.stillOurs(task, current.record)
            ? undefined
            : this.changeOf(change, current),
        {
          start: { record: task.record, version: task.version },
          retryMoved: task.gang !== undefined,
          maxTries: MAX_TRIES,
        },
      );
    } catch (error) {
      if (
        task.dropped ||
        error instanceof SessionExpiredError ||
        error instanceof ClientClosedError
      ) {
        return 'dropped';
      }
      this.logger.warn({ msg: 'task status write failed', ...this.context(task, error) });
      return 'stale';
    }
    if (outcome.kind === 'written') {
      task.record = outcome.task.record;
      task.version = outcome.task.version;
      return 'written';
    }
    return this.stale(task, outcome.kind);
  }

  /** The write of `change` on `current`: our own assignment always goes with it, checked or deleted. */
  private changeOf(change: Change, current: VersionedTask): TaskChange {
    const next = change.apply(current.record);
    return {
      from: current,
      next,
      events: change.events(next),
      own: { workerId: this.workerId, delete: change.release !== 'check' },
      ...(change.release === 'gang' ? { release: holdersOf(current.record) } : {}),
      // A write that lets go of the task tells the leader what it became (a queue note).
      ...(change.notify || change.release !== 'check' ? { notify: true } : {}),
    };
  }

  private stillOurs(task: HeldTask, record: TaskRecord): boolean {
    return (
      record.attempt === task.attempt &&
      (record.state === 'assigned' || record.state === 'running') &&
      (task.gang ? (record.workers ?? []).includes(this.workerId) : true)
    );
  }

  private stale(task: HeldTask, why: string): WriteOutcome {
    if (task.dropped) return 'dropped';
    this.logger.log({
      msg: 'task status write rejected: this worker no longer holds the task; dropping it',
      ...this.context(task, why),
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
