import type { AuditEvent, AuditEventType, TaskError, TaskRecord, TaskState } from '@app/contracts';
import type { StoredAuditEvent, TaskHistory } from './audit-store';
import { InvalidAuditEventError } from './audit-errors';
import type { HistoryRow } from './task-history-fold';
import { isoTime } from './iso-time';

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

/**
 * What the fold reads back of a `task_history` row: its folded columns only
 * (not the final record), times as epoch ms (no Date to build and take apart).
 */
export type FoldedHistoryRow = Pick<
  TaskHistoryRow,
  'task_id' | 'job_id' | 'type' | 'state' | 'attempt' | 'worker_id' | 'error' | 'last_seq'
> & { created_ms: number | null; started_ms: number | null; finished_ms: number | null };

/** Stored times are whole ms (isoTime), so the rounding only drops float noise. */
const epochMs = (column: string): string =>
  `round(extract(epoch FROM ${column}) * 1000)::float8 AS ${column.replace('_at', '_ms')}`;

export const FOLDED_HISTORY_COLUMNS = [
  'task_id, job_id, "type", state, attempt, worker_id',
  epochMs('created_at'),
  epochMs('started_at'),
  epochMs('finished_at'),
  'error, last_seq',
].join(', ');

export function toHistoryRow(row: FoldedHistoryRow): HistoryRow {
  return {
    taskId: row.task_id,
    jobId: row.job_id,
    type: row.type,
    state: row.state as TaskState,
    attempt: row.attempt,
    workerId: row.worker_id,
    createdAt: row.created_ms,
    startedAt: row.started_ms,
    finishedAt: row.finished_ms,
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

/**
 * Throws InvalidAuditEventError for the first of `events` PostgreSQL would
 * refuse, naming its position in `events`.
 */
export function assertAppendable(events: readonly AuditEvent[]): void {
  events.forEach((event, i) => {
    const problem = auditEventProblem(event);
    if (problem !== undefined) throw new InvalidAuditEventError(i, event?.id, problem);
  });
}

/**
 * The events (checked: assertAppendable) as one JSON array for the
 * `json_to_recordset` insert of `audit_events` (keys: see INSERT_EVENTS): one
 * native encoding instead of ten array literals built and escaped element by
 * element. Times are ISO text, as exact as the epoch ms for every date.
 */
export function eventsJson(events: readonly AuditEvent[]): string {
  const rows = events.map((event) => ({
    i: event.id,
    t: isoTime(event.time),
    y: withoutNul(event.type),
    j: optionalText(event.jobId),
    k: optionalText(event.taskId),
    w: optionalText(event.workerId),
    a: event.attempt ?? null,
    c: withoutNul(event.actor),
    f: optionalText(event.fencingToken),
    d: event.detail ?? null,
  }));
  return jsonWithoutNul(rows);
}

/** The folded `task_history` rows as one JSON array for their `json_to_recordset` upsert. */
export function historyJson(rows: readonly HistoryRow[]): string {
  return jsonWithoutNul(
    rows.map((row) => ({
      task_id: row.taskId,
      job_id: row.jobId,
      kind: row.type === null ? null : withoutNul(row.type),
      state: row.state,
      attempt: row.attempt,
      worker_id: row.workerId,
      created_at: row.createdAt === null ? null : isoTime(row.createdAt),
      started_at: row.startedAt === null ? null : isoTime(row.startedAt),
      finished_at: row.finishedAt === null ? null : isoTime(row.finishedAt),
      error: row.error,
      last_seq: row.lastSeq.toString(),
    })),
  );
}

/**
 * JSON with NUL in string values replaced (see withoutNul). JSON writes NUL as
 * `\u0000`, so the text tells whether the slower pass is needed (a literal
 * backslash before `u0000` sends it there too, harmlessly).
 */
function jsonWithoutNul(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u0000') ? jsonParameter(value)! : json;
}
