import { isWithWorker, type TaskError, type TaskRecord } from '@app/contracts';

/**
 * Pure record transitions of docs/task-protocol.md, shared by the API, the
 * leader and the workers so all apply the same rules (retry budget, backoff,
 * field resets). The records a gang member writes are in gang-transitions.ts.
 */

export function toAssigned(
  record: TaskRecord,
  workerIds: readonly string[],
  now: number,
): TaskRecord {
  const next: TaskRecord = {
    ...record,
    state: 'assigned',
    attempt: record.attempt + 1,
    workerId: workerIds[0],
    assignedAt: now,
  };
  if (workerIds.length > 1) next.workers = [...workerIds];
  else delete next.workers;
  delete next.retryAt;
  delete next.startedAt;
  delete next.members;
  delete next.error;
  return next;
}

/** Back to the queue without counting a failure (worker gone, handed back: steps 6 and 9). */
export function toPending(record: TaskRecord): TaskRecord {
  const next: TaskRecord = { ...record, state: 'pending' };
  delete next.workerId;
  delete next.workers;
  delete next.members;
  delete next.startedAt;
  return next;
}

/** Delay before the next attempt after `failures` failed ones (1 → backoffMs, then doubling). */
export function backoffAfter(record: TaskRecord, failures: number): number {
  return record.retry.backoffMs * 2 ** Math.max(0, failures - 1);
}

/** Step 3: the task runs from `startedAt`. */
export function toStarted(record: TaskRecord, startedAt: number): TaskRecord {
  return { ...record, state: 'running', startedAt };
}

export function toSucceeded(record: TaskRecord, result: unknown, now: number): TaskRecord {
  const next: TaskRecord = { ...record, state: 'succeeded', finishedAt: now };
  if (result === undefined) delete next.result;
  else next.result = result;
  delete next.error;
  delete next.retryAt;
  return next;
}

/**
 * An attempt failed (handler error, timeout, barrier…): retry while the budget
 * lasts, otherwise the task fails for good. `final` fails it whatever attempts
 * remain (nothing a retry could change: an unknown type, a bad payload).
 */
export function toFailedAttempt(
  record: TaskRecord,
  error: TaskError,
  now: number,
  final = false,
): TaskRecord {
  const failures = record.failures + 1;
  const next: TaskRecord = { ...record, failures, error };
  delete next.result;
  if (!final && failures < record.retry.maxAttempts) {
    next.state = 'retrying';
    next.retryAt = now + backoffAfter(record, failures);
    delete next.finishedAt;
  } else {
    next.state = 'failed';
    next.finishedAt = now;
    delete next.retryAt;
  }
  return next;
}

export function toCancelled(record: TaskRecord, reason: string, now: number): TaskRecord {
  return {
    ...record,
    state: 'cancelled',
    finishedAt: now,
    error: { code: 'cancelled', message: reason },
  };
}

/**
 * The one holder rule: the workers whose assignment node `/assign/<worker>/<id>`
 * exists while the record is what it is. A task has assignments only while
 * `assigned` or `running`; a gang member that succeeded deleted its own (and a
 * member's failure ends the attempt for all). Every transition that takes a
 * task away from its workers deletes these, tolerating one already gone.
 */
export function holdersOf(record: TaskRecord): string[] {
  if (!isWithWorker(record.state)) return [];
  const all = record.workers ?? (record.workerId === undefined ? [] : [record.workerId]);
  return all.filter((id) => {
    const member = record.members?.[id];
    return member === undefined || (member.state !== 'succeeded' && member.state !== 'failed');
  });
}
