import type { DataSource } from 'typeorm';
import { newId } from '@app/contracts';
import { PgCalls } from '../pg-calls';
import { PING_EVENT, type WebhookEventSelector, type WebhookFilter } from './webhook-events';
import {
  DELIVERY_COLUMNS,
  SUBSCRIPTION_COLUMNS,
  toDeliveryView,
  toView,
  type DeliveryRow,
  type SubscriptionRow,
} from './webhook-rows';
import type { DeliveryPage, WebhookPage, WebhookView } from './webhook-views';

export interface NewWebhook {
  url: string;
  events: readonly WebhookEventSelector[];
  filter: WebhookFilter;
  /** Sealed with the new id (SecretBox.seal(secret, id)). */
  sealSecret: (id: string) => string;
}

export interface WebhookPatch {
  url?: string;
  events?: readonly WebhookEventSelector[];
  filter?: WebhookFilter;
  sealSecret?: (id: string) => string;
}

// UPDATE and DELETE … RETURNING are wrapped in a CTE below: TypeORM answers
// those commands with `[rows, count]`, a SELECT with the rows.

/**
 * Webhook subscriptions in PostgreSQL (the tables of
 * 1796601600000-create-webhook-tables), as the scheduler API writes and reads
 * them: subscriptions, a subscription's deliveries, a `ping`. Matching and
 * attempts are WebhookDeliveryStore's (the draining registry).
 */
export class WebhookStore {
  private readonly calls: PgCalls;

  constructor(dataSource: DataSource, options: { assertReady?: () => void } = {}) {
    this.calls = new PgCalls(dataSource, options.assertReady);
  }

  /** Creates a subscription; it is matched against events stored from now on. */
  async create(webhook: NewWebhook): Promise<WebhookView> {
    const id = newId();
    const rows = await this.calls.query<SubscriptionRow>(
      `INSERT INTO webhook_subscriptions
         (id, url, events, job_id, task_type, secret_sealed, matched_seq, created_at, updated_at)
       VALUES ($1, $2, $3::text[], $4, $5, $6, (SELECT COALESCE(MAX(seq), 0) FROM audit_events), now(), now())
       RETURNING ${SUBSCRIPTION_COLUMNS}`,
      [
        id,
        webhook.url,
        [...webhook.events],
        webhook.filter.jobId ?? null,
        webhook.filter.taskType ?? null,
        webhook.sealSecret(id),
      ],
    );
    return toView(rows[0]);
  }

  async count(): Promise<number> {
    const rows = await this.calls.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM webhook_subscriptions`,
    );
    return rows[0].n;
  }

  /** A page of subscriptions by id, after `after`. */
  async list(after: string | undefined, limit: number): Promise<WebhookPage> {
    const rows = await this.calls.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions
        WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [after ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map(toView);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  async get(id: string): Promise<WebhookView | undefined> {
    const rows = await this.calls.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1`,
      [id],
    );
    return rows[0] === undefined ? undefined : toView(rows[0]);
  }

  /** Applies a patch; undefined when there is no such subscription. */
  async update(id: string, patch: WebhookPatch): Promise<WebhookView | undefined> {
    const rows = await this.calls.query<SubscriptionRow>(
      `WITH changed AS (UPDATE webhook_subscriptions SET
         url = COALESCE($2, url),
         events = COALESCE($3::text[], events),
         job_id = CASE WHEN $4 THEN $5 ELSE job_id END,
         task_type = CASE WHEN $4 THEN $6 ELSE task_type END,
         secret_sealed = COALESCE($7, secret_sealed),
         updated_at = now()
       WHERE id = $1
       RETURNING ${SUBSCRIPTION_COLUMNS}) SELECT * FROM changed`,
      [
        id,
        patch.url ?? null,
        patch.events === undefined ? null : [...patch.events],
        patch.filter !== undefined,
        patch.filter?.jobId ?? null,
        patch.filter?.taskType ?? null,
        patch.sealSecret?.(id) ?? null,
      ],
    );
    return rows[0] === undefined ? undefined : toView(rows[0]);
  }

  /** Deletes a subscription and its deliveries; false when there was none. */
  async delete(id: string): Promise<boolean> {
    return this.calls.transaction(async (runner) => {
      const deleted = (await runner.query(
        `WITH gone AS (DELETE FROM webhook_subscriptions WHERE id = $1 RETURNING id) SELECT * FROM gone`,
        [id],
      )) as unknown[];
      await runner.query(`DELETE FROM webhook_deliveries WHERE subscription_id = $1`, [id]);
      return deleted.length > 0;
    });
  }

  /** A subscription's deliveries, newest first, before `before` (a delivery seq). */
  async deliveries(id: string, before: string | undefined, limit: number): Promise<DeliveryPage> {
    const rows = await this.calls.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
        WHERE subscription_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
        ORDER BY seq DESC LIMIT $3`,
      [id, before ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map(toDeliveryView);
    return { items, nextCursor: rows.length > limit ? rows[limit - 1].seq : null };
  }

  /** Queues a `ping` delivery to the subscription (POST /v1/webhooks/:id/test); its event id. */
  async enqueuePing(id: string): Promise<string | undefined> {
    const eventId = newId();
    const now = new Date();
    const body = JSON.stringify({
      id: eventId,
      type: PING_EVENT,
      occurredAt: now.toISOString(),
      data: { webhookId: id },
    });
    const rows = await this.calls.query<{ event_id: string }>(
      `INSERT INTO webhook_deliveries
         (subscription_id, event_id, event_type, occurred_at, body, state, created_at, next_attempt_at)
       SELECT id, $2, $3, $4, $5, 'pending', now(), now() FROM webhook_subscriptions WHERE id = $1
       RETURNING event_id`,
      [id, eventId, PING_EVENT, now, body],
    );
    return rows[0]?.event_id;
  }
}
