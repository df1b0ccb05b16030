import type { RetrySpec, Selector } from './job';
import type { TaskState, TerminalTaskState } from './task-state';

export interface TaskError {
  message: string;
  /** Machine-readable cause: `timeout`, `cancelled`, `handler`, `worker_lost`, … */
  code: string;
}

/** A task as stored in `/tasks/<id>`; the znode version orders its writes (CAS). */
export interface TaskRecord {
  id: string;
  /** The job that fired it, if any. */
  jobId?: string;
  /** The scheduled instant of a job fire (epoch ms). */
  fireTime?: number;
  type: string;
  payload: unknown;
  state: TaskState;
  /** 1 for the first assignment, +1 for each retry or reassignment; 0 before. */
  attempt: number;
  /** Attempts that failed (handler error or timeout); retries stop at `retry.maxAttempts`. */
  failures: number;
  retry: RetrySpec;
  timeoutMs?: number;
  selector?: Selector;
  parallelism: number;
  idempotencyKey?: string;
  /**
   * The name of the API token that submitted it (a job's fires: the job's
   * owner). A `submitter` may cancel only its own tasks; its idempotency keys
   * are its own. Unset when the API has no tokens.
   */
  owner?: string;
  /** Earliest start (epoch ms). */
  runAt: number;
  /** The worker holding it (the first of `workers` for a gang). */
  workerId?: string;
  /** Every worker of a gang task. */
  workers?: string[];
  createdAt: number;
  assignedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** When a `retrying` task becomes due again. */
  retryAt?: number;
  result?: unknown;
  error?: TaskError;
  /** Per-member outcome of a gang task. */
  members?: Record<string, { state: TaskState; result?: unknown; error?: TaskError }>;
}

/** What a worker is given to run a task (assembled from the record and its version). */
export interface TaskExecution {
  taskId: string;
  jobId?: string;
  type: string;
  payload: unknown;
  attempt: number;
  /** Stable across attempts: handlers use it to make side effects idempotent. */
  idempotencyKey: string;
  timeoutMs?: number;
  runAt: number;
  gang?: { size: number; index: number };
}

/**
 * `/queue/q-<seq>`: tasks the leader must look at. A writer that knows the
 * record it wrote puts it in `tasks` with the znode version it made, so the
 * leader need not read it back (a record older than one the leader holds is
 * ignored: versions order every change); `ids` names tasks to read. A task
 * that finished (a terminal state) is told by its id and state only: all the
 * leader does with it is let it go.
 */
export interface QueueNote {
  ids: string[];
  tasks?: Array<{ version: number; record: TaskRecord | FinishedTaskNotice }>;
}

/** A finished task in a QueueNote: no more than the leader needs to let it go. */
export interface FinishedTaskNotice {
  id: string;
  state: TerminalTaskState;
}

/** `/assign/<worker>/<task>`: the worker's right to run the task's attempt. */
export interface Assignment {
  attempt: number;
  /** The task's znode version once assigned: the worker's first compare-and-set. */
  taskVersion?: number;
  /**
   * The record as assigned, in the worker's AssignmentNote (the node itself
   * leaves it out since notes carry it). Valid while the assignment exists:
   * every other writer deletes the assignment in the transaction that changes
   * the record (gang members excepted: they read the record itself).
   */
  record?: TaskRecord;
}

/**
 * `/assign/<worker>/_n-<seq>`: the assignments one leader transaction gave a
 * worker, each with the record as assigned, so the worker reads one node per
 * batch instead of one per task. The assignment nodes stay the right to run.
 */
export interface AssignmentNote {
  assignments: Array<Required<Assignment>>;
}
