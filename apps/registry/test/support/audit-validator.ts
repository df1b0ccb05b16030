/**
 * Reads the audit history straight from PostgreSQL and checks each task's
 * events against the task protocol (docs/task-protocol.md): in seq order they
 * must form a valid path from `task.created` to the task's final state, with
 * consistent attempt numbers, and agree with `task_history` and the final
 * record. Used by the end-to-end tests of the registry.
 */
import { Client } from 'pg';
import type { AuditEventType, TaskRecord, TaskState } from '@app/contracts';

export interface AuditRow {
  seq: string;
  id: string;
  type: AuditEventType;
  taskId: string | null;
  jobId: string | null;
  workerId: string | null;
  attempt: number | null;
  detail: Record<string, unknown> | null;
  /** `<service>/<member id>/<pid>` of the writer. */
  actor: string;
  /** The leader's fencing token (`<epoch>:<candidate>`) on leader writes. */
  fencingToken: string | null;
  /** Epoch ms, the writer's clock. */
  time: number;
}

export interface HistoryRow {
  taskId: string;
  state: TaskState;
  attempt: number;
  record: TaskRecord | null;
}

export interface AuditSnapshot {
  rows: AuditRow[];
  distinctIds: number;
  history: Map<string, HistoryRow>;
}

export async function readAudit(databaseUrl: string): Promise<AuditSnapshot> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const events = await client.query<{
      seq: string;
      event_id: string;
      type: AuditEventType;
      task_id: string | null;
      job_id: string | null;
      worker_id: string | null;
      attempt: number | null;
      detail: Record<string, unknown> | null;
      actor: string;
      fencing_token: string | null;
      time_ms: string;
    }>(
      'SELECT seq::text AS seq, event_id::text AS event_id, "type", task_id, job_id, worker_id, attempt, detail, actor, fencing_token, (extract(epoch from "time") * 1000)::bigint::text AS time_ms FROM audit_events ORDER BY audit_events.seq',
    );
    const distinct = await client.query<{ n: string }>(
      'SELECT count(DISTINCT event_id)::text AS n FROM audit_events',
    );
    const history = await client.query<{
      task_id: string;
      state: TaskState;
      attempt: number;
      record: TaskRecord | null;
    }>('SELECT task_id, state, attempt, record FROM task_history');
    return {
      rows: events.rows.map((row) => ({
        seq: row.seq,
        id: row.event_id,
        type: row.type,
        taskId: row.task_id,
        jobId: row.job_id,
        workerId: row.worker_id,
        attempt: row.attempt,
        detail: row.detail,
        actor: row.actor,
        fencingToken: row.fencing_token,
        time: Number(row.time_ms),
      })),
      distinctIds: Number(distinct.rows[0].n),
      history: new Map(
        history.rows.map((row) => [
          row.task_id,
          { taskId: row.task_id, state: row.state, attempt: row.attempt, record: row.record },
        ]),
      ),
    };
  } finally {
    await client.end();
  }
}

/** Where a task is in the protocol after each event. */
type PathState =
  | 'none'
  | 'pending'
  | 'assigned'
  | 'running'
  /** An attempt failed (task.failed / task.timed_out): a retry or the end follows. */
  | 'attempt-failed'
  | 'retrying'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export interface TaskPath {
  taskId: string;
  types: AuditEventType[];
  final: TaskState;
  assignments: number;
  failures: number;
}

/**
 * Replays one task's events (in seq order) through the protocol; throws with
 * the task's whole path when a step is not allowed. Single-worker tasks.
 */
export function replayTask(taskId: string, events: readonly AuditRow[]): TaskPath {
  let state: PathState = 'none';
  let attempt = 0;
  let failures = 0;
  const fail = (why: string): never => {
    throw new Error(
      `task ${taskId}: ${why}; path: ${events.map((e) => `${e.type}(a${e.attempt ?? '-'})`).join(' → ')}`,
    );
  };
  const terminal = (): boolean =>
    state === 'succeeded' || state === 'failed' || state === 'cancelled';
  for (const event of events) {
    if (terminal()) fail(`${event.type} after the end`);
    const sameAttempt = (): void => {
      if (event.attempt !== attempt)
        fail(`${event.type} for attempt ${event.attempt}, current ${attempt}`);
    };
    switch (event.type) {
      case 'task.created':
        if (state !== 'none') fail('created twice');
        state = 'pending';
        break;
      case 'task.assigned':
        if (state !== 'pending' && state !== 'retrying') fail(`assigned while ${state}`);
        if (event.attempt !== attempt + 1)
          fail(`assigned attempt ${event.attempt} after ${attempt}`);
        attempt += 1;
        state = 'assigned';
        break;
      case 'task.started':
        if (state !== 'assigned') fail(`started while ${state}`);
        sameAttempt();
        state = 'running';
        break;
      case 'task.succeeded':
        if (state !== 'assigned' && state !== 'running') fail(`succeeded while ${state}`);
        sameAttempt();
        state = 'succeeded';
        break;
      case 'task.timed_out':
      case 'task.failed':
        if (state !== 'assigned' && state !== 'running') fail(`${event.type} while ${state}`);
        sameAttempt();
        failures += 1;
        state = 'attempt-failed';
        break;
      case 'task.retry_scheduled':
        if (state !== 'attempt-failed') fail(`retry scheduled while ${state}`);
        sameAttempt();
        state = 'retrying';
        break;
      case 'task.reassigned':
        if (state !== 'assigned' && state !== 'running') fail(`reassigned while ${state}`);
        sameAttempt();
        state = 'pending';
        break;
      case 'task.cancelled':
        if (!['pending', 'assigned', 'running', 'retrying'].includes(state))
          fail(`cancelled while ${state}`);
        state = 'cancelled';
        break;
      default:
        fail(`unexpected ${event.type}`);
    }
  }
  // An attempt that failed with no retry after it ended the task.
  if (state === 'attempt-failed') state = 'failed';
  if (!terminal()) fail(`not finished: ${state}`);
  return {
    taskId,
    types: events.map((e) => e.type),
    final: state as TaskState,
    assignments: attempt,
    failures,
  };
}

export interface Verdict {
  paths: Map<string, TaskPath>;
  /** Every problem found (empty: all good). */
  problems: string[];
}

/**
 * Checks every task of `taskIds`: each event id once in the whole table, a
 * valid path per task, and the path's end agreeing with task_history and its
 * final record (state, attempt, failures).
 */
export function verifyTasks(snapshot: AuditSnapshot, taskIds: readonly string[]): Verdict {
  const problems: string[] = [];
  if (snapshot.distinctIds !== snapshot.rows.length) {
    problems.push(`${snapshot.rows.length - snapshot.distinctIds} event ids stored twice`);
  }
  const byTask = new Map<string, AuditRow[]>();
  for (const row of snapshot.rows) {
    if (row.taskId === null || !row.type.startsWith('task.')) continue;
    const list = byTask.get(row.taskId);
    if (list) list.push(row);
    else byTask.set(row.taskId, [row]);
  }
  const paths = new Map<string, TaskPath>();
  for (const id of taskIds) {
    try {
      const path = replayTask(id, byTask.get(id) ?? []);
      paths.set(id, path);
      const history = snapshot.history.get(id);
      if (!history) {
        problems.push(`task ${id}: no task_history row`);
        continue;
      }
      if (history.state !== path.final) {
        problems.push(`task ${id}: history says ${history.state}, events end ${path.final}`);
      }
      const record = history.record;
      if (record) {
        if (record.state !== path.final)
          problems.push(`task ${id}: record ${record.state}, events ${path.final}`);
        if (record.attempt !== path.assignments) {
          problems.push(
            `task ${id}: record attempt ${record.attempt}, ${path.assignments} assignments`,
          );
        }
        if (record.failures !== path.failures) {
          problems.push(
            `task ${id}: record failures ${record.failures}, ${path.failures} failed attempts`,
          );
        }
      }
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return { paths, problems };
}
