import { InvalidAuditQueryError } from './audit-errors';
import { AUDIT_EVENT_COLUMNS, isValidEpochMs, TASK_HISTORY_COLUMNS } from './audit-rows';
import { isoTime } from './iso-time';
import type { AuditQuery, TaskHistoryFilter } from './audit-store';

/**
 * The SQL of `query` and `listTaskHistory`, built from the filters that are
 * set (AND-ed), every value a parameter. Exported for the benchmark, which
 * EXPLAINs exactly these statements.
 */

export const MAX_PAGE = 1_000;
const BIGINT = /^\d{1,19}$/;
const BIGINT_MAX = 9_223_372_036_854_775_807n;

export interface Statement {
  sql: string;
  params: unknown[];
  /** The page size asked for; the statement fetches one more to know if more exist. */
  limit: number;
}

class Parameters {
  readonly values: unknown[] = [];

  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * `SELECT … FROM audit_events WHERE … ORDER BY seq LIMIT limit + 1`.
 *
 * Two shapes, because of how time relates to seq. Event time follows seq
 * closely (events are drained soon after they happen), so the rows of a time
 * window sit together somewhere in seq order — but the planner assumes they
 * are spread evenly, and for `since`/`until` alone it would walk the primary
 * key from the cursor (or the start) and skip every row before the window:
 * hundreds of milliseconds on a million rows for the last hour or day.
 *
 * - An id or type filter (with or without a time window): the `(x, seq)`
 *   index yields that filter's rows in seq order, the time is checked on
 *   them, and the scan stops after `limit + 1`.
 * - A time window alone: the window's seqs come from an index-only range read
 *   of `(time, seq)`, the smallest `limit + 1` are kept, and only those rows
 *   are read. `OFFSET 0` keeps the planner from pushing the ORDER BY/LIMIT
 *   into that read (which would turn it back into the primary-key walk). Cost:
 *   the window's size, not the table's; a window spanning most of the table is
 *   read by a sequential scan instead.
 */
export function auditQueryStatement(query: AuditQuery): Statement {
  const limit = pageLimit(query.limit);
  const p = new Parameters();
  const equality: string[] = [];
  if (query.taskId !== undefined) equality.push(`task_id = ${p.bind(query.taskId)}`);
  if (query.jobId !== undefined) equality.push(`job_id = ${p.bind(query.jobId)}`);
  if (query.workerId !== undefined) equality.push(`worker_id = ${p.bind(query.workerId)}`);
  if (query.type !== undefined) equality.push(`"type" = ${p.bind(query.type)}`);
  const window: string[] = [];
  if (query.since !== undefined) {
    window.push(`"time" >= ${p.bind(timeParameter('since', query.since))}::timestamptz`);
  }
  if (query.until !== undefined) {
    window.push(`"time" < ${p.bind(timeParameter('until', query.until))}::timestamptz`);
  }
  const cursor =
    query.after === undefined
      ? []
      : [`seq > ${p.bind(cursorParameter('after', query.after))}::bigint`];
  const where = (conditions: string[]): string =>
    conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const select = `SELECT ${AUDIT_EVENT_COLUMNS} FROM audit_events`;
  if (equality.length === 0 && window.length > 0) {
    const seqs =
      `SELECT seq FROM (SELECT seq FROM audit_events${where([...window, ...cursor])} OFFSET 0) AS w` +
      ` ORDER BY seq LIMIT ${p.bind(limit + 1)}`;
    return { sql: `${select} WHERE seq IN (${seqs}) ORDER BY seq`, params: p.values, limit };
  }
  const sql = `${select}${where([...equality, ...window, ...cursor])} ORDER BY seq LIMIT ${p.bind(limit + 1)}`;
  return { sql, params: p.values, limit };
}

/** `SELECT … FROM task_history WHERE … ORDER BY task_id LIMIT limit + 1`. */
export function taskHistoryStatement(filter: TaskHistoryFilter): Statement {
  const limit = pageLimit(filter.limit);
  const p = new Parameters();
  const where: string[] = [];
  if (filter.jobId !== undefined) where.push(`job_id = ${p.bind(filter.jobId)}`);
  if (filter.state !== undefined) where.push(`state = ${p.bind(filter.state)}`);
  if (filter.after !== undefined) where.push(`task_id > ${p.bind(filter.after)}`);
  const sql =
    `SELECT ${TASK_HISTORY_COLUMNS} FROM task_history` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY task_id LIMIT ${p.bind(limit + 1)}`;
  return { sql, params: p.values, limit };
}

export function pageLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new InvalidAuditQueryError('limit', `must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

function timeParameter(name: string, value: number): string {
  if (!isValidEpochMs(value)) {
    throw new InvalidAuditQueryError(name, 'must be a time in epoch milliseconds');
  }
  return isoTime(value);
}

/** A seq cursor as given back by an earlier page: a non-negative bigint in decimal. */
export function cursorParameter(name: string, value: string): string {
  if (typeof value !== 'string' || !BIGINT.test(value) || BigInt(value) > BIGINT_MAX) {
    throw new InvalidAuditQueryError(name, 'must be a cursor returned by an earlier page');
  }
  return value;
}
