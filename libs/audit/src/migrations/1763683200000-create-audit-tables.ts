import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit history schema (entities/ describes the same). Hand-written so the
 * indexes are exactly the ones the queries need; `bench/audit-query.ts` shows
 * each one in use with EXPLAIN:
 *
 * - `audit_events_pkey (seq)`: no filter, `eventsAfter`, `lastSeq`, and the
 *   `seq > after` cursor of every page.
 * - `audit_events_event_id_key (event_id)`: idempotent inserts.
 * - `(task_id, seq)`, `(job_id, seq)`, `(worker_id, seq)`, `(type, seq)`: an
 *   equality filter plus the cursor is one ordered range read that stops after
 *   `limit + 1` rows. Partial on `IS NOT NULL`: many events have no task, job
 *   or worker, and those never match an equality filter.
 * - `(time, seq)`: `since`/`until` windows (an ordered range on time; `seq`
 *   makes the rows' order available without visiting the table).
 *
 * Ids are `COLLATE "C"`: byte order, the same on every server, and cheaper
 * comparisons; `task_history` pages are ordered by it.
 */
export class CreateAuditTables1763683200000 implements MigrationInterface {
  readonly name = 'CreateAuditTables1763683200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE audit_events (
        seq           bigserial   NOT NULL,
        event_id      uuid        NOT NULL,
        "time"        timestamptz NOT NULL,
        "type"        text        COLLATE "C" NOT NULL,
        job_id        text        COLLATE "C",
        task_id       text        COLLATE "C",
        worker_id     text        COLLATE "C",
        attempt       integer,
        actor         text        NOT NULL,
        fencing_token text,
        detail        jsonb,
        CONSTRAINT audit_events_pkey PRIMARY KEY (seq),
        CONSTRAINT audit_events_event_id_key UNIQUE (event_id)
      )`);
    await runner.query(
      `CREATE INDEX audit_events_task_id_seq_idx ON audit_events (task_id, seq) WHERE task_id IS NOT NULL`,
    );
    await runner.query(
      `CREATE INDEX audit_events_job_id_seq_idx ON audit_events (job_id, seq) WHERE job_id IS NOT NULL`,
    );
    await runner.query(
      `CREATE INDEX audit_events_worker_id_seq_idx ON audit_events (worker_id, seq) WHERE worker_id IS NOT NULL`,
    );
    await runner.query(`CREATE INDEX audit_events_type_seq_idx ON audit_events ("type", seq)`);
    await runner.query(`CREATE INDEX audit_events_time_seq_idx ON audit_events ("time", seq)`);

    await runner.query(`
      CREATE TABLE task_history (
        task_id     text        COLLATE "C" NOT NULL,
        job_id      text        COLLATE "C",
        "type"      text,
        state       text        COLLATE "C" NOT NULL,
        attempt     integer     NOT NULL DEFAULT 0,
        worker_id   text        COLLATE "C",
        created_at  timestamptz,
        started_at  timestamptz,
        finished_at timestamptz,
        error       jsonb,
        record      jsonb,
        last_seq    bigint      NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT task_history_pkey PRIMARY KEY (task_id)
      )`);
    await runner.query(
      `CREATE INDEX task_history_job_id_task_id_idx ON task_history (job_id, task_id) WHERE job_id IS NOT NULL`,
    );
    await runner.query(
      `CREATE INDEX task_history_state_task_id_idx ON task_history (state, task_id)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE task_history`);
    await runner.query(`DROP TABLE audit_events`);
  }
}
