import type { AuditEvent, AuditEventType, TaskRecord } from '@app/contracts';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  auditQueryStatement,
  cursorParameter,
  pageLimit,
  taskHistoryStatement,
} from './audit-query-sql';
import { isoTime } from './iso-time';
import {
  assertAppendable,
  AUDIT_EVENT_COLUMNS,
  eventsJson,
  FOLDED_HISTORY_COLUMNS,
  historyJson,
  isValidEpochMs,
  jsonParameter,
  TASK_HISTORY_COLUMNS,
  toHistoryRow,
  toStoredEvent,
  toTaskHistory,
  withoutNul,
  type AuditEventRow,
  type FoldedHistoryRow,
  type TaskHistoryRow,
} from './audit-rows';
import type {
  AuditPage,
  AuditQuery,
  AuditStore,
  SecondCount,
  StoredAuditEvent,
  TaskHistory,
  TaskHistoryFilter,
} from './audit-store';
import { PgCalls } from './pg-calls';
import { foldsIntoHistory, foldTaskEvent, type HistoryRow } from './task-history-fold';

export interface TypeOrmAuditStoreOptions {
  /**
   * Throws (an AuditUnavailableError) while the database is not ready yet, so
   * calls fail at once with the reason instead of reaching a pool that is not
   * there (AuditDatabase.assertReady).
   */
  assertReady?: () => void;
  /** Events per INSERT statement (default 1 000). */
  insertChunk?: number;
  /** `ping` answers false after this long (default 2 s). */
  pingTimeoutMs?: number;
}

/**
 * Key of the transaction advisory lock every `append` takes first. Appends
 * are then serialised, so a seq is only ever allocated after every smaller
 * one has committed: a reader paging by `seq > after` cannot step over a row
 * that commits later with a smaller seq (two drains overlapping during a
 * leader hand-over, a retried batch). The drain is one process at a time, so
 * the lock costs nothing in the normal case.
 */
const APPEND_LOCK_KEY = 0x7a6b_6170; // 'zkap'

/** `$1`: eventsJson. Rows keep their order (ordinality), so seqs follow the batch's order. */
const INSERT_EVENTS = `
  INSERT INTO audit_events
    (event_id, "time", "type", job_id, task_id, worker_id, attempt, actor, fencing_token, detail)
  SELECT e.i, e.t, e.y, e.j, e.k, e.w, e.a, e.c, e.f, e.d
    FROM ROWS FROM (json_to_recordset($1::json)
           AS (i uuid, t timestamptz, y text, j text, k text, w text, a integer, c text, f text, d jsonb))
         WITH ORDINALITY AS e(i, t, y, j, k, w, a, c, f, d, ord)
   ORDER BY e.ord
  ON CONFLICT (event_id) DO NOTHING
  RETURNING seq, event_id`;

const LOCK_HISTORY = `
  SELECT ${FOLDED_HISTORY_COLUMNS} FROM task_history WHERE task_id = ANY($1::text[]) FOR UPDATE`;

/** `$1`: historyJson. */
const UPSERT_HISTORY = `
  INSERT INTO task_history
    (task_id, job_id, "type", state, attempt, worker_id, created_at, started_at, finished_at,
     error, last_seq, updated_at)
  SELECT h.*, now()
    FROM json_to_recordset($1::json)
         AS h(task_id text, job_id text, kind text, state text, attempt integer, worker_id text,
              created_at timestamptz, started_at timestamptz, finished_at timestamptz,
              error jsonb, last_seq bigint)
  ON CONFLICT (task_id) DO UPDATE SET
    job_id = EXCLUDED.job_id, "type" = EXCLUDED."type", state = EXCLUDED.state,
    attempt = EXCLUDED.attempt, worker_id = EXCLUDED.worker_id,
    created_at = EXCLUDED.created_at, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, error = EXCLUDED.error,
    last_seq = EXCLUDED.last_seq, updated_at = EXCLUDED.updated_at
  WHERE task_history.last_seq < EXCLUDED.last_seq`;

const SAVE_FINAL_RECORD = `
  INSERT INTO task_history
    (task_id, job_id, "type", state, attempt, worker_id, created_at, started_at, finished_at,
     error, record, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9::timestamptz,
          $10::jsonb, $11::jsonb, now())
  ON CONFLICT (task_id) DO UPDATE SET
    job_id = EXCLUDED.job_id, "type" = EXCLUDED."type", state = EXCLUDED.state,
    attempt = EXCLUDED.attempt, worker_id = EXCLUDED.worker_id,
    created_at = EXCLUDED.created_at, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at,
    error = COALESCE(EXCLUDED.error, task_history.error),
    record = EXCLUDED.record, updated_at = EXCLUDED.updated_at`;

/**
 * The audit history in PostgreSQL through TypeORM (parameterised SQL on the
 * data source's pool; the schema comes from the migrations).
 *
 * `append` is one transaction: the events go in with one multi-row `INSERT …
 * SELECT FROM json_to_recordset(…) ON CONFLICT (event_id) DO NOTHING RETURNING`
 * per chunk (the rows as one JSON parameter: no parameter limit, one plan, and
 * a quarter less of the drain's CPU than ten array parameters), then the
 * rows of the newly inserted events' tasks are locked and read (their folded
 * columns only, and none for a task created in the batch), folded in memory
 * (task-history-fold.ts) and written back with one such upsert, guarded by
 * `last_seq`. Four statements per batch at most, whatever its size.
 *
 * Errors: a database that cannot be reached rejects with AuditUnavailableError
 * (promptly: connections time out after the data source's connect timeout);
 * an event PostgreSQL would refuse, with InvalidAuditEventError before anything
 * is sent; a bad query parameter, with InvalidAuditQueryError.
 */
export class TypeOrmAuditStore implements AuditStore {
  private readonly insertChunk: number;
  private readonly pingTimeoutMs: number;
  private readonly calls: PgCalls;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: TypeOrmAuditStoreOptions = {},
  ) {
    this.insertChunk = options.insertChunk ?? 1_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2_000;
    this.calls = new PgCalls(dataSource, options.assertReady);
  }

  async append(events: readonly AuditEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    // All checked first: a refused event is named by its place in `events`, not in its chunk.
    assertAppendable(events);
    const chunks: string[] = [];
    for (let i = 0; i < events.length; i += this.insertChunk) {
      chunks.push(eventsJson(events.slice(i, i + this.insertChunk)));
    }
    return this.transaction(async (runner) => {
      await runner.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY]);
      const seqOf = new Map<string, string>();
      for (const chunk of chunks) {
        const rows = (await runner.query(INSERT_EVENTS, [chunk])) as Array<{
          seq: string;
          event_id: string;
        }>;
        for (const row of rows) seqOf.set(row.event_id, row.seq);
      }
      const inserted: StoredAuditEvent[] = [];
      for (const event of events) {
        const id = event.id.toLowerCase();
        const seq = seqOf.get(id);
        // A duplicate within the batch was inserted once, for its first occurrence.
        if (seq === undefined) continue;
        seqOf.delete(id);
        inserted.push({ ...event, seq });
      }
      await this.foldIntoHistory(runner, inserted);
      return inserted.length;
    });
  }

  async saveFinalRecord(record: TaskRecord): Promise<void> {
    const time = (value: number | undefined): string | null =>
      isValidEpochMs(value) ? isoTime(value) : null;
    await this.run((source) =>
      source.query(SAVE_FINAL_RECORD, [
        withoutNul(record.id),
        record.jobId === undefined ? null : withoutNul(record.jobId),
        withoutNul(record.type),
        record.state,
        record.attempt,
        record.workerId === undefined ? null : withoutNul(record.workerId),
        time(record.createdAt),
        time(record.startedAt),
        time(record.finishedAt),
        jsonParameter(record.error),
        jsonParameter(record),
      ]),
    );
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const { sql, params, limit } = auditQueryStatement(query);
    const rows = (await this.run((source) => source.query(sql, params))) as AuditEventRow[];
    const events = rows.slice(0, limit).map(toStoredEvent);
    return rows.length > limit ? { events, nextCursor: events[events.length - 1].seq } : { events };
  }

  async taskHistory(taskId: string): Promise<TaskHistory | undefined> {
    const rows = (await this.run((source) =>
      source.query(`SELECT ${TASK_HISTORY_COLUMNS} FROM task_history WHERE task_id = $1`, [taskId]),
    )) as TaskHistoryRow[];
    return rows.length === 0 ? undefined : toTaskHistory(rows[0]);
  }

  async listTaskHistory(
    filter: TaskHistoryFilter,
  ): Promise<{ tasks: TaskHistory[]; next?: string }> {
    const { sql, params, limit } = taskHistoryStatement(filter);
    const rows = (await this.run((source) => source.query(sql, params))) as TaskHistoryRow[];
    const tasks = rows.slice(0, limit).map(toTaskHistory);
    return rows.length > limit ? { tasks, next: tasks[tasks.length - 1].taskId } : { tasks };
  }

  async retiredByIdempotencyKeys(keys: readonly string[]): Promise<Map<string, TaskRecord>> {
    const found = new Map<string, TaskRecord>();
    if (keys.length === 0) return found;
    const rows = (await this.run((source) =>
      source.query(
        `SELECT record FROM task_history ` +
          `WHERE record ? 'idempotencyKey' AND record ->> 'idempotencyKey' = ANY($1::text[])`,
        // Stored records had NUL replaced (withoutNul): the same for the keys looked up.
        [[...new Set(keys.map(withoutNul))]],
      ),
    )) as Array<{ record: TaskRecord }>;
    for (const { record } of rows) {
      if (record.idempotencyKey !== undefined) found.set(record.idempotencyKey, record);
    }
    return found;
  }

  async eventsAfter(seq: string, limit: number): Promise<StoredAuditEvent[]> {
    const after = cursorParameter('seq', seq);
    const rows = (await this.run((source) =>
      source.query(
        `SELECT ${AUDIT_EVENT_COLUMNS} FROM audit_events WHERE seq > $1::bigint ORDER BY seq LIMIT $2`,
        [after, pageLimit(limit)],
      ),
    )) as AuditEventRow[];
    return rows.map(toStoredEvent);
  }

  async countsPerSecond(since: number, types: readonly AuditEventType[]): Promise<SecondCount[]> {
    // A range scan of audit_events_time_seq_idx; grouped in PostgreSQL, so only counts travel.
    const rows = (await this.run((source) =>
      source.query(
        `SELECT floor(extract(epoch FROM time))::bigint::text AS second, type, count(*)::int AS count
           FROM audit_events WHERE time >= $1 AND type = ANY($2::text[])
          GROUP BY 1, 2 ORDER BY 1`,
        [new Date(since), [...types]],
      ),
    )) as Array<{ second: string; type: AuditEventType; count: number }>;
    return rows.map((row) => ({ second: Number(row.second), type: row.type, count: row.count }));
  }

  async lastSeq(): Promise<string> {
    const rows = (await this.run((source) =>
      source.query(`SELECT COALESCE(MAX(seq), 0)::text AS seq FROM audit_events`),
    )) as Array<{ seq: string }>;
    return rows[0].seq;
  }

  async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.pingTimeoutMs);
    });
    try {
      this.options.assertReady?.();
      const answered = this.dataSource.query('SELECT 1').then(
        () => true,
        () => false,
      );
      return await Promise.race([answered, late]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- internals --------------------------------------------------------------------

  private async foldIntoHistory(
    runner: QueryRunner,
    inserted: readonly StoredAuditEvent[],
  ): Promise<void> {
    const byTask = new Map<string, Array<StoredAuditEvent & { taskId: string }>>();
    for (const event of inserted) {
      if (!foldsIntoHistory(event)) continue;
      const folded = { ...event, taskId: withoutNul(event.taskId) };
      if (event.jobId !== undefined) folded.jobId = withoutNul(event.jobId);
      if (event.workerId !== undefined) folded.workerId = withoutNul(event.workerId);
      const list = byTask.get(folded.taskId);
      if (list) list.push(folded);
      else byTask.set(folded.taskId, [folded]);
    }
    if (byTask.size === 0) return;
    // A task's first event is its `task.created`, stored once (ON CONFLICT):
    // a task whose first new event it is has no row to read yet.
    const known: string[] = [];
    for (const [taskId, taskEvents] of byTask) {
      if (taskEvents[0].type !== 'task.created') known.push(taskId);
    }
    const existing =
      known.length === 0 ? [] : ((await runner.query(LOCK_HISTORY, [known])) as FoldedHistoryRow[]);
    const rows = new Map<string, HistoryRow>(
      existing.map((row) => [row.task_id, toHistoryRow(row)]),
    );
    const changed: HistoryRow[] = [];
    for (const [taskId, taskEvents] of byTask) {
      const before = rows.get(taskId);
      let row = before;
      // Inserted in this order, so seq order: the order the changes happened.
      for (const event of taskEvents) row = foldTaskEvent(row, event);
      if (row !== undefined && row !== before) changed.push(row);
    }
    if (changed.length > 0) await runner.query(UPSERT_HISTORY, [historyJson(changed)]);
  }

  private transaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    return this.calls.transaction(work);
  }

  private run<T>(work: (source: DataSource) => Promise<T>): Promise<T> {
    return this.calls.run(work);
  }
}
