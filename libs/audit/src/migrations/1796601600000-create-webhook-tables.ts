import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook subscriptions and their deliveries (entities/webhook-*.entity.ts
 * describe the same).
 *
 * - `webhook_subscriptions.matched_seq`: the `audit_events.seq` through which
 *   the subscription's events have been matched. Matching advances it in the
 *   same transaction that inserts the deliveries, so each event is matched
 *   exactly once (appends are serialised, so no row commits later below it).
 * - `webhook_deliveries`: one row per (subscription, event), the body stored
 *   as sent (a retry sends the same bytes). `seq` orders a subscription's
 *   deliveries; the partial index finds each subscription's oldest pending one.
 * - The secret is stored sealed (AES-256-GCM, secret-box.ts), never in clear.
 */
export class CreateWebhookTables1796601600000 implements MigrationInterface {
  readonly name = 'CreateWebhookTables1796601600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE webhook_subscriptions (
        id            uuid        NOT NULL,
        url           text        NOT NULL,
        events        text[]      NOT NULL,
        job_id        text        COLLATE "C",
        task_type     text,
        secret_sealed text        NOT NULL,
        matched_seq   bigint      NOT NULL,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL,
        CONSTRAINT webhook_subscriptions_pkey PRIMARY KEY (id)
      )`);
    await runner.query(`
      CREATE TABLE webhook_deliveries (
        seq             bigserial   NOT NULL,
        subscription_id uuid        NOT NULL,
        event_id        uuid        NOT NULL,
        event_type      text        NOT NULL,
        occurred_at     timestamptz NOT NULL,
        body            text        NOT NULL,
        state           text        NOT NULL,
        attempts        integer     NOT NULL DEFAULT 0,
        created_at      timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        last_attempt_at timestamptz,
        last_status     integer,
        last_error      text,
        finished_at     timestamptz,
        CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (seq),
        CONSTRAINT webhook_deliveries_subscription_event_key UNIQUE (subscription_id, event_id)
      )`);
    await runner.query(
      `CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (subscription_id, seq) WHERE state = 'pending'`,
    );
    await runner.query(
      `CREATE INDEX webhook_deliveries_subscription_seq_idx ON webhook_deliveries (subscription_id, seq)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE webhook_deliveries`);
    await runner.query(`DROP TABLE webhook_subscriptions`);
  }
}
