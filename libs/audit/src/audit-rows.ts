import type { AuditEvent, AuditEventType, TaskError, TaskRecord, TaskState } from '@app/contracts';
import type { StoredAuditEvent, TaskHistory } from './audit-store';
import { InvalidAuditEventError } from './audit-errors';
import type { HistoryRow } from './task-history-fold';

/**
 * Conversions between the contract's shapes and PostgreSQL rows: seq as a
 * decimal string (bigint), times as epoch ms (timestamptz), JSON as jsonb.
 * Optional fields are left out rather than set to undefined, so an event read
 * back equals the event appended.
 */

/** A row of `audit_events` as node-postgres returns it. */
export interface AuditEventRow {
  seq: string;
  event_id: string;
  time: Date;
  type: string;
  job_id: string | null;
  task_id: string | null;
  worker_id: string | null;
  attempt: number | null;
  actor: string;
  fencing_token: string | null;
  detail: Record<string, unknown> | null;
}

/** A row of `task_history` as node-postgres returns it. */
export interface TaskHistoryRow {
  task_id: string;
  job_id: string | null;
  type: string | null;
  state: string;
  attempt: number;
  worker_id: string | null;
  created_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  error: TaskError | null;
  record: TaskRecord | null;
  last_seq: string;
  updated_at: Date;
}

export const AUDIT_EVENT_COLUMNS =
  'seq, event_id, "time", "type", job_id, task_id, worker_id, attempt, actor, fencing_token, detail';

export const TASK_HISTORY_COLUMNS =
  'task_id, job_id, "type", state, attempt, worker_id, created_at, started_at, finished_at, error, record, last_seq, updated_at';

export function toStoredEvent(row: AuditEventRow): StoredAuditEvent {
  const event: StoredAuditEvent = {
    seq: row.seq,
    id: row.event_id,
    time: row.time.getTime(),
    type: row.type as AuditEventType,
    actor: row.actor,
  };
  if (row.job_id !== null) event.jobId = row.job_id;
  if (row.task_id !== null) event.taskId = row.task_id;
  if (row.worker_id !== null) event.workerId = row.worker_id;
  if (row.attempt !== null) event.attempt = row.attempt;
  if (row.fencing_token !== null) event.fencingToken = row.fencing_token;
  if (row.detail !== null) event.detail = row.detail;
  return event;
}

function epoch(value: Date | null): number | undefined {
  return value === null ? undefined : value.getTime();
}

export function toTaskHistory(row: TaskHistoryRow): TaskHistory {
  const history: TaskHistory = {
    taskId: row.task_id,
    state: row.state as TaskState,
    attempt: row.attempt,
    updatedAt: row.updated_at.getTime(),
  };
  if (row.job_id !== null) history.jobId = row.job_id;
  if (row.type !== null) history.type = row.type;
  if (row.worker_id !== null) history.workerId = row.worker_id;
  const createdAt = epoch(row.created_at);
  if (createdAt !== undefined) history.createdAt = createdAt;
  const startedAt = epoch(row.started_at);
  if (startedAt !== undefined) history.startedAt = startedAt;
  const finishedAt = epoch(row.finished_at);
  if (finishedAt !== undefined) history.finishedAt = finishedAt;
  if (row.error !== null) history.error = { code: row.error.code, message: row.error.message };
  if (row.record !== null) history.record = row.record;
  return history;
}

export function toHistoryRow(row: TaskHistoryRow): HistoryRow {
  return {
    taskId: row.task_id,
    jobId: row.job_id,
    type: row.type,
    state: row.state as TaskState,
    attempt: row.attempt,
    workerId: row.worker_id,
    createdAt: epoch(row.created_at) ?? null,
    startedAt: epoch(row.started_at) ?? null,
    finishedAt: epoch(row.finished_at) ?? null,
    error: row.error,
    lastSeq: BigInt(row.last_seq),
  };
}

// ---- parameters ------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** timestamptz covers far more, but a JavaScript Date no further than this. */
const MAX_EPOCH_MS = 8.64e15;
const INT32_MAX = 2 ** 31 - 1;

/**
 * PostgreSQL refuses NUL in text and `\u0000` in jsonb; a handler's error
 * message may carry one. It becomes U+FFFD rather than failing the batch.
 */
export function withoutNul(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/** JSON for a jsonb parameter (undefined: SQL NULL). */
export function jsonParameter(value: unknown): string | null {
  if (value === undefined) return null;
  const json = JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'string' ? withoutNul(item) : item,
  );
  return json === undefined ? null : json;
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' ? withoutNul(value) : null;
}

export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function isValidEpochMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_MS;
}

/**
 * Why PostgreSQL would refuse `event` (a type it cannot store), or undefined
 * when it can be appended. The drain can use it to set a bad event aside.
 */
export function auditEventProblem(event: AuditEvent): string | undefined {
  if (typeof event !== 'object' || event === null) return 'not an object';
  if (typeof event.id !== 'string' || !UUID.test(event.id)) return 'id is not a UUID';
  if (!isValidEpochMs(event.time)) return 'time is not an epoch ms number';
  const type: unknown = event.type;
  if (typeof type !== 'string' || type === '') return 'type is missing';
  if (typeof event.actor !== 'string') return 'actor is missing';
  const attempt: unknown = event.attempt;
  if (
    attempt !== undefined &&
    (typeof attempt !== 'number' || !Number.isInteger(attempt) || Math.abs(attempt) > INT32_MAX)
  ) {
    return 'attempt is not a 32-bit integer';
  }
  const detail: unknown = event.detail;
  if (detail !== undefined && (typeof detail !== 'object' || detail === null)) {
    return 'detail is not an object';
  }
  return undefined;
}

/** Column arrays for the `unnest` insert of `audit_events`, in the order of its parameters. */
export function eventColumns(events: readonly AuditEvent[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 10 }, () => new Array<unknown>(events.length));
  events.forEach((event, i) => {
    const problem = auditEventProblem(event);
    if (problem !== undefined) throw new InvalidAuditEventError(i, event?.id, problem);
    columns[0][i] = event.id;
    columns[1][i] = isoTime(event.time);
    columns[2][i] = withoutNul(event.type);
    columns[3][i] = optionalText(event.jobId);
    columns[4][i] = optionalText(event.taskId);
    columns[5][i] = optionalText(event.workerId);
    columns[6][i] = event.attempt ?? null;
    columns[7][i] = withoutNul(event.actor);
    columns[8][i] = optionalText(event.fencingToken);
    columns[9][i] = jsonParameter(event.detail);
  });
  return columns;
}

/** Column arrays for the `unnest` upsert of folded `task_history` rows. */
export function historyColumns(rows: readonly HistoryRow[]): unknown[][] {
  const time = (value: number | null): string | null => (value === null ? null : isoTime(value));
  return [
    rows.map((row) => row.taskId),
    rows.map((row) => row.jobId),
    rows.map((row) => (row.type === null ? null : withoutNul(row.type))),
    rows.map((row) => row.state),
    rows.map((row) => row.attempt),
    rows.map((row) => row.workerId),
    rows.map((row) => time(row.createdAt)),
    rows.map((row) => time(row.startedAt)),
    rows.map((row) => time(row.finishedAt)),
    rows.map((row) => jsonParameter(row.error ?? undefined)),
    rows.map((row) => row.lastSeq.toString()),
  ];
}
