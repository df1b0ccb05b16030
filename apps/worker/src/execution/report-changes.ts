import type { AuditEvent, AuditEventType, TaskError, TaskRecord } from '@app/contracts';
import { toFailedAttempt, toPending, toStarted, toSucceeded, type AuditWriter } from '@app/store';
import { memberFailedRecord, memberStartedRecord, memberSucceededRecord } from './gang-transitions';
import type { Change, HeldTask } from './held-task';
import { excerpt } from './task-transitions';

/** How an attempt failed: a handler error (or unusable task) or the worker's own timeout. */
export interface AttemptFailure {
  error: TaskError;
  timedOut: boolean;
  /** Fail the task for good, whatever attempts remain. */
  final: boolean;
}

/**
 * Builds the changes of protocol steps 3, 4 and 9 with their audit events
 * (`task.started`, `task.succeeded`, `task.failed`/`task.timed_out` +
 * `task.retry_scheduled`, `task.reassigned`).
 */
export class ReportChanges {
  constructor(
    private readonly audit: AuditWriter,
    private readonly workerId: string,
    private readonly now: () => number = Date.now,
  ) {}

  started(task: HeldTask): Change {
    // Made now, so its time is the start even when folded into the finish.
    const event = this.event('task.started', task, {
      lateMs: task.startedAt - task.record.runAt,
      ...(task.gang ? { member: task.gang.index, of: task.gang.size } : {}),
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

  failed(task: HeldTask, failure: AttemptFailure): Change {
    const finishedAt = this.now();
    const workerId = this.workerId;
    const { error, final } = failure;
    return {
      apply: task.gang
        ? (current) => memberFailedRecord(current, workerId, error, finishedAt, final)
        : (current) => toFailedAttempt(current, error, finishedAt, final),
      events: (next) => {
        const events = [
          this.event(failure.timedOut ? 'task.timed_out' : 'task.failed', task, {
            code: error.code,
            message: excerpt(error.message),
            durationMs: task.startedAt > 0 ? finishedAt - task.startedAt : 0,
            failures: next.failures,
            ...this.gangDetail(task, next),
          }),
        ];
        if (next.state === 'retrying') {
          events.push(
            this.event('task.retry_scheduled', task, {
              retryAt: next.retryAt,
              failures: next.failures,
              maxAttempts: next.retry.maxAttempts,
            }),
          );
        }
        return events;
      },
      release: task.gang ? 'gang' : 'own',
    };
  }

  handedBack(task: HeldTask, reason = 'handed back'): Change {
    return {
      apply: toPending,
      events: () => [this.event('task.reassigned', task, { reason, from: task.record.state })],
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

  private gangDetail(task: HeldTask, next: TaskRecord): Record<string, unknown> {
    // Each member reports its own outcome; `state` says what the task reached.
    return task.gang
      ? { member: task.gang.index, of: task.gang.size, state: next.state }
      : { state: next.state };
  }

  private event(type: AuditEventType, task: HeldTask, detail: Record<string, unknown>): AuditEvent {
    return this.audit.event(type, {
      taskId: task.id,
      ...(task.jobId === undefined ? {} : { jobId: task.jobId }),
      workerId: this.workerId,
      attempt: task.attempt,
      detail,
    });
  }
}
