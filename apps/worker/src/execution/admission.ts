import type { Assignment, AssignmentNote, TaskRecord } from '@app/contracts';

export interface Admitted {
  ok: true;
  /** Present for a gang task: this worker's place in it. */
  gang?: { size: number; index: number; workers: readonly string[] };
}

export type Admission = Admitted | { ok: false; reason: string };

/**
 * Protocol step 3: a worker runs an assigned task only if the record is
 * `assigned`, its attempt is the assignment's, and this worker is its worker
 * (or one of the gang's `workers`). Anything else is a leftover or a race the
 * leader resolves; the worker ignores it. A gang member may also find the
 * record `running` (another member started first), but never one it has
 * already started itself (an entry of its own in `members`).
 */
export function admit(record: TaskRecord, assignment: Assignment, workerId: string): Admission {
  const gang = record.parallelism > 1;
  // A gang's first member to start moves the task to `running`; the others
  // still join, as long as they have not started this attempt before.
  const joinable = record.state === 'assigned' || (gang && record.state === 'running');
  if (!joinable) {
    return { ok: false, reason: `task is ${record.state}, not assigned` };
  }
  if (gang && record.members?.[workerId] !== undefined) {
    return {
      ok: false,
      reason: `this worker already took part in attempt ${record.attempt} (${record.members[workerId].state})`,
    };
  }
  if (record.attempt !== assignment.attempt) {
    return {
      ok: false,
      reason: `assignment is for attempt ${assignment.attempt}, the task is at attempt ${record.attempt}`,
    };
  }
  if (gang) {
    const workers = record.workers ?? [];
    const index = workers.indexOf(workerId);
    if (index < 0) return { ok: false, reason: `gang workers [${workers.join(', ')}] exclude us` };
    if (workers.length !== record.parallelism || new Set(workers).size !== workers.length) {
      return {
        ok: false,
        reason: `gang of ${record.parallelism} lists ${workers.length} workers (${workers.join(', ')}), not as many distinct ones`,
      };
    }
    return { ok: true, gang: { size: workers.length, index, workers } };
  }
  if (record.workerId !== workerId) {
    return { ok: false, reason: `task belongs to worker ${record.workerId ?? '(none)'}` };
  }
  return { ok: true };
}

/** The assignment node's JSON; a malformed one is treated as no right to run. */
export function parseAssignment(data: Buffer): Assignment | undefined {
  try {
    const value = JSON.parse(data.toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const { attempt, taskVersion, record } = value as Partial<Assignment>;
    if (typeof attempt !== 'number' || !Number.isInteger(attempt)) return undefined;
    const carried =
      typeof taskVersion === 'number' &&
      Number.isInteger(taskVersion) &&
      typeof record === 'object' &&
      record !== null &&
      record.attempt === attempt;
    return carried ? { attempt, taskVersion, record } : { attempt };
  } catch {
    return undefined;
  }
}

/** The assignments of a leader's note (AssignmentNote) that carry what a worker needs; the rest are left out. */
export function parseAssignmentNote(data: Buffer): Array<Required<Assignment>> {
  let note: Partial<AssignmentNote>;
  try {
    note = JSON.parse(data.toString('utf8')) as Partial<AssignmentNote>;
  } catch {
    return [];
  }
  if (!Array.isArray(note?.assignments)) return [];
  return note.assignments.filter(
    (a): a is Required<Assignment> =>
      typeof a === 'object' &&
      a !== null &&
      Number.isInteger(a.attempt) &&
      Number.isInteger(a.taskVersion) &&
      typeof a.record === 'object' &&
      a.record !== null &&
      typeof a.record.id === 'string' &&
      a.record.attempt === a.attempt,
  );
}
