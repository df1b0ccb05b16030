import type { TaskError, TaskRecord } from '@app/contracts';
import { toFailedAttempt } from './task-transitions';

/**
 * The records a member of a gang task writes. Every member updates the same
 * record, each with its own outcome in `members[<worker>]`, by compare-and-set
 * on a freshly read version (TaskWrites.update re-reads and applies again).
 *
 * - start: the first member moves `assigned` → `running`; each adds itself as running.
 * - success: the member whose write makes every member of `workers` succeeded
 *   sets the task `succeeded`; the others only record their own success.
 * - failure: the task fails its attempt (retrying/failed, step 4) and every
 *   member still holding an assignment loses it in the same transaction.
 */

type Member = NonNullable<TaskRecord['members']>[string];

function withMember(record: TaskRecord, workerId: string, member: Member): TaskRecord {
  return { ...record, members: { ...record.members, [workerId]: member } };
}

export function memberStartedRecord(
  record: TaskRecord,
  workerId: string,
  startedAt: number,
): TaskRecord {
  const next = withMember(record, workerId, { state: 'running' });
  if (next.state === 'assigned') next.state = 'running';
  next.startedAt ??= startedAt;
  return next;
}

export function memberSucceededRecord(
  record: TaskRecord,
  workerId: string,
  result: unknown,
  now: number,
): TaskRecord {
  const next = withMember(
    record,
    workerId,
    result === undefined ? { state: 'succeeded' } : { state: 'succeeded', result },
  );
  if (allSucceeded(next)) {
    next.state = 'succeeded';
    next.finishedAt = now;
  }
  return next;
}

export function memberFailedRecord(
  record: TaskRecord,
  workerId: string,
  error: TaskError,
  now: number,
  final = false,
): TaskRecord {
  const next = toFailedAttempt(record, error, now, final);
  const failed: Member = { state: 'failed', error };
  // A retried gang starts over: successes of this attempt must not count for the next one.
  next.members =
    next.state === 'retrying' ? { [workerId]: failed } : { ...record.members, [workerId]: failed };
  return next;
}

export function allSucceeded(record: TaskRecord): boolean {
  const workers = record.workers ?? [];
  return workers.length > 0 && workers.every((w) => record.members?.[w]?.state === 'succeeded');
}
