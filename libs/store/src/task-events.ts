import type { AuditEvent, AuditEventType, TaskError, TaskRecord } from '@app/contracts';
import type { AuditFields } from './audit-writer';

/**
 * The audit vocabulary of task transitions, in one place so that every writer
 * (API, leader, worker) says the same thing the same way: the history fold
 * (libs/audit) and every reader of `/v1/audit` depend on it.
 */

/** Makes an event: `AuditWriter.event`, or a leader term's (which adds its fencing token). */
export type MakeEvent = (type: AuditEventType, fields?: AuditFields) => AuditEvent;

/** Longest error message in an event's detail; the record keeps a longer one. */
export const DETAIL_EXCERPT_LIMIT = 200;

export function excerpt(text: string, limit: number = DETAIL_EXCERPT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** Whom an event is about. A gang member names itself, not the gang's first worker. */
export function taskFields(record: TaskRecord, workerId = record.workerId): AuditFields {
  return {
    taskId: record.id,
    ...(record.jobId === undefined ? {} : { jobId: record.jobId }),
    ...(workerId === undefined ? {} : { workerId }),
    attempt: record.attempt,
  };
}

export function taskEvent(
  make: MakeEvent,
  type: AuditEventType,
  record: TaskRecord,
  detail?: Record<string, unknown>,
  workerId?: string,
): AuditEvent {
  return make(type, { ...taskFields(record, workerId), ...(detail ? { detail } : {}) });
}

export interface AttemptFailure {
  error: TaskError;
  /** The attempt ran out of time (the worker's timer, or the leader's watchdog). */
  timedOut: boolean;
}

/**
 * One failed attempt, whoever saw it fail (a worker: its handler or its own
 * timer; the leader: no report within the timeout): `task.timed_out` or
 * `task.failed` with the error, the failures so far and the state the task
 * reached (`retrying` or `failed`; `running` for a gang member's part), then
 * `task.retry_scheduled` when a retry follows. `next` is the record after the
 * failure; `detail` adds what only this writer knows (`durationMs`, `by`).
 */
export function attemptFailedEvents(
  make: MakeEvent,
  next: TaskRecord,
  failure: AttemptFailure,
  detail: Record<string, unknown> = {},
  workerId?: string,
): AuditEvent[] {
  const events = [
    taskEvent(
      make,
      failure.timedOut ? 'task.timed_out' : 'task.failed',
      next,
      {
        code: failure.error.code,
        message: excerpt(failure.error.message),
        failures: next.failures,
        ...detail,
        state: next.state,
      },
      workerId,
    ),
  ];
  if (next.state === 'retrying') {
    events.push(
      taskEvent(
        make,
        'task.retry_scheduled',
        next,
        { retryAt: next.retryAt, failures: next.failures, maxAttempts: next.retry.maxAttempts },
        workerId,
      ),
    );
  }
  return events;
}

/** A task cancelled (by request, or by the leader for a job's policy) from the state it was in. */
export function cancelledEvent(make: MakeEvent, before: TaskRecord, reason: string): AuditEvent {
  return taskEvent(make, 'task.cancelled', before, { from: before.state, reason });
}
