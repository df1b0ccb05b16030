import type { AuditEventType, TaskRecord } from '@app/contracts';
import {
  attemptFailedEvents,
  memberFailedRecord,
  memberStartedRecord,
  memberSucceededRecord,
  taskEvent,
  toFailedAttempt,
  toPending,
  toStarted,
  toSucceeded,
  type AttemptFailure,
  type AuditWriter,
  type MakeEvent,
} from '@app/store';
import type { Change, HeldTask } from './held-task';

/** How an attempt failed: a handler error (or unusable task) or the worker's own timeout. */
export interface WorkerFailure extends AttemptFailure {
  /** Fail the task for good, whatever attempts remain. */
  final: boolean;
}

/**
 * Builds the changes of protocol steps 3, 4 and 9 with their audit events
 * (`task.started`, `task.succeeded`, `task.failed`/`task.timed_out` +
 * `task.retry_scheduled`, `task.reassigned`).
 */
export class ReportChanges {
  private readonly make: MakeEvent;

  constructor(
    audit: AuditWriter,
    private readonly workerId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.make = audit.event.bind(audit);
  }

  started(task: HeldTask): Change {
    // Made now, so its time is the start even when folded into the finish.
    const event = this.event('task.started', task, {
      lateMs: task.startedAt - task.record.runAt,
      ...this.gangPlace(task),
    });
    const workerId = this.workerId;
    return {
      apply: task.gang
        ? (current) => memberStartedRecord(current, workerId, task.startedAt)
        : (current) => toStarted(current, task.startedAt),
      events: () => [event],
      release: 'check',
    };
  }

  succeeded(task: HeldTask, result: unknown): Change {
    const finishedAt = this.now();
    const workerId = this.workerId;
    return {
      apply: task.gang
        ? (current) => memberSucceededRecord(current, workerId, result, finishedAt)
        : (current) => toSucceeded(current, result, finishedAt),
      events: (next) => [
        this.event('task.succeeded', task, {
          durationMs: finishedAt - task.startedAt,
          ...this.gangDetail(task, next),
        }),
      ],
      release: 'own',
    };
  }

  failed(task: HeldTask, failure: WorkerFailure): Change {
    const finishedAt = this.now();
    const workerId = this.workerId;
    const { error, final } = failure;
    return {
      apply: task.gang
        ? (current) => memberFailedRecord(current, workerId, error, finishedAt, final)
        : (current) => toFailedAttempt(current, error, finishedAt, final),
      events: (next) =>
        attemptFailedEvents(
          this.make,
          next,
          failure,
          {
            durationMs: task.startedAt > 0 ? finishedAt - task.startedAt : 0,
            ...this.gangPlace(task),
          },
          workerId,
        ),
      release: task.gang ? 'gang' : 'own',
    };
  }

  handedBack(task: HeldTask, reason = 'handed back'): Change {
    return {
      apply: toPending,
      events: () => [
        // `from`: the worker it leaves, as in the leader's reassignments; `state`: how far it got.
        this.event('task.reassigned', task, {
          reason,
          from: this.workerId,
          state: task.record.state,
        }),
      ],
      release: task.gang ? 'gang' : 'own',
      notify: true,
    };
  }

  /** A start not written yet and the change that ends the attempt, as one write. */
  static fold(start: Change, end: Change): Change {
    return {
      apply: (current) => end.apply(start.apply(current)),
      events: (next) => [...start.events(next), ...end.events(next)],
      release: end.release,
      notify: end.notify,
    };
  }

  private gangPlace(task: HeldTask): Record<string, unknown> {
    return task.gang ? { member: task.gang.index, of: task.gang.size } : {};
  }

  private gangDetail(task: HeldTask, next: TaskRecord): Record<string, unknown> {
    // Each member reports its own outcome; `state` says what the task reached.
    return { ...this.gangPlace(task), state: next.state };
  }

  private event(type: AuditEventType, task: HeldTask, detail: Record<string, unknown>) {
    return taskEvent(this.make, type, task.record, detail, this.workerId);
  }
}
