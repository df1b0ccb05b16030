import {
  isTerminal,
  TASK_STATES,
  type AuditEventType,
  type TaskError,
  type TaskState,
} from '@app/contracts';
import type { StoredAuditEvent } from './audit-store';

/**
 * How a task's audit events become its `task_history` row. Pure: the store
 * reads the rows of a batch's tasks, folds the batch's new events into them in
 * seq order here, and writes them back in one statement.
 *
 * | event                  | state                          | also                                          |
 * | ---------------------- | ------------------------------ | --------------------------------------------- |
 * | `task.created`         | pending                        | created_at, job_id, type (`detail.type`)      |
 * | `task.assigned`        | assigned                       | attempt, worker_id; started/finished cleared  |
 * | `task.started`         | running                        | started_at (the first member's, for a gang)   |
 * | `task.succeeded`       | `detail.state` ?? succeeded    | finished_at once terminal                     |
 * | `task.failed`          | `detail.state` ?? failed       | error (`detail.code`, `.message`), finished_at once terminal |
 * | `task.timed_out`       | `detail.state` ?? unchanged    | error code `timeout`, finished_at once terminal |
 * | `task.retry_scheduled` | retrying                       | finished_at cleared                           |
 * | `task.reassigned`      | pending                        | worker_id, started_at cleared                 |
 * | `task.cancelled`       | cancelled                      | finished_at, error code `cancelled` (`detail.reason`) |
 * | `task.skipped`         | — (no row: see below)          |                                               |
 *
 * `detail.state` is the state the task reached, which every writer of a
 * finished attempt says (`attemptFailedEvents` in libs/store): a failed
 * attempt with retries left reaches `retrying`, a gang member's success leaves
 * the task `running` until the last member. Rows stored before the leader's
 * timeout spoke that vocabulary have a `task.timed_out` without a state (by
 * the leader): the `task.failed` or `task.retry_scheduled` stored with it says
 * what the task reached, hence the fallbacks below.
 *
 * `task.skipped` (a fire skipped by the misfire or concurrency policy) never
 * makes a row: no task was created, and a history row has a task state, which
 * a skipped fire never had. The event itself is in `audit_events`.
 *
 * `error` is the last failed attempt's summary and stays when a later attempt
 * succeeds (the contract's `TaskHistory.error`); the final record (`record`)
 * says what `GET /v1/tasks/:id` said.
 */

/** The folded columns of one `task_history` row (times in epoch ms). */
export interface HistoryRow {
  taskId: string;
  jobId: string | null;
  type: string | null;
  state: TaskState;
  attempt: number;
  workerId: string | null;
  createdAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  error: TaskError | null;
  /** Seq of the last event folded in. */
  lastSeq: bigint;
}

const STATES: ReadonlySet<string> = new Set(TASK_STATES);

/** Event types that change `task_history` (every `task.*` but `task.skipped`). */
export const FOLDED_EVENT_TYPES: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  'task.created',
  'task.assigned',
  'task.started',
  'task.succeeded',
  'task.failed',
  'task.retry_scheduled',
  'task.reassigned',
  'task.cancelled',
  'task.timed_out',
]);

export function foldsIntoHistory(event: StoredAuditEvent): event is StoredAuditEvent & {
  taskId: string;
} {
  return (
    typeof event.taskId === 'string' && event.taskId !== '' && FOLDED_EVENT_TYPES.has(event.type)
  );
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function reachedState(detail: Record<string, unknown> | undefined): TaskState | undefined {
  const state = detail?.state;
  return typeof state === 'string' && STATES.has(state) ? (state as TaskState) : undefined;
}

function emptyRow(taskId: string): HistoryRow {
  return {
    taskId,
    jobId: null,
    type: null,
    state: 'pending',
    attempt: 0,
    workerId: null,
    createdAt: null,
    startedAt: null,
    finishedAt: null,
    error: null,
    lastSeq: 0n,
  };
}

/** Ends an attempt in `state`: a terminal state stamps the finish, any other clears it. */
function settle(row: HistoryRow, state: TaskState, time: number): HistoryRow {
  return { ...row, state, finishedAt: isTerminal(state) ? time : null };
}

/**
 * `row` (undefined: no row yet) after `event`. An event at or below the row's
 * `lastSeq` changes nothing: folding is idempotent and never goes backwards.
 */
export function foldTaskEvent(
  row: HistoryRow | undefined,
  event: StoredAuditEvent & { taskId: string },
): HistoryRow {
  const seq = BigInt(event.seq);
  if (row !== undefined && seq <= row.lastSeq) return row;
  const base: HistoryRow = {
    ...(row ?? emptyRow(event.taskId)),
    jobId: event.jobId ?? row?.jobId ?? null,
    attempt: event.attempt ?? row?.attempt ?? 0,
    lastSeq: seq,
  };
  const detail = event.detail;
  const time = event.time;
  switch (event.type) {
    case 'task.created':
      return {
        ...base,
        state: 'pending',
        createdAt: time,
        type: text(detail?.type) ?? base.type,
      };
    case 'task.assigned': {
      const workers = detail?.workers;
      const first = Array.isArray(workers) ? text(workers[0]) : undefined;
      return {
        ...base,
        state: 'assigned',
        workerId: event.workerId ?? first ?? base.workerId,
        startedAt: null,
        finishedAt: null,
      };
    }
    case 'task.started':
      return {
        ...base,
        state: 'running',
        // A gang's members each report a start: the task started with the first.
        startedAt: base.state === 'running' && base.startedAt !== null ? base.startedAt : time,
        workerId: base.workerId ?? event.workerId ?? null,
      };
    case 'task.succeeded':
      return settle(base, reachedState(detail) ?? 'succeeded', time);
    case 'task.failed': {
      const code = text(detail?.code) ?? 'failed';
      const message =
        text(detail?.message) ?? (base.error?.code === code ? base.error.message : code);
      return settle({ ...base, error: { code, message } }, reachedState(detail) ?? 'failed', time);
    }
    case 'task.timed_out': {
      const error = { code: 'timeout', message: text(detail?.message) ?? 'timed out' };
      const state = reachedState(detail);
      const timedOut = { ...base, error };
      return state === undefined ? timedOut : settle(timedOut, state, time);
    }
    case 'task.retry_scheduled':
      return { ...base, state: 'retrying', finishedAt: null };
    case 'task.reassigned':
      return { ...base, state: 'pending', workerId: null, startedAt: null, finishedAt: null };
    case 'task.cancelled':
      return settle(
        {
          ...base,
          error: { code: 'cancelled', message: text(detail?.reason) ?? 'cancelled' },
        },
        'cancelled',
        time,
      );
    default:
      // Not a folded type (foldsIntoHistory filters them out): only the seq moves.
      return base;
  }
}
