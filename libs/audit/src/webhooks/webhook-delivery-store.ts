import type { DataSource, QueryRunner } from 'typeorm';
import type { AuditEventRow } from '../audit-rows';
import { PgCalls } from '../pg-calls';
import { MAPPED_AUDIT_TYPES, wantedType, webhookTypesOf } from './webhook-events';
import { SUBSCRIPTION_COLUMNS, filterOf, type SubscriptionRow } from './webhook-rows';
import type { DeliveryView } from './webhook-views';

/** An open delivery (neither delivered nor failed) whose attempt is due, with its subscription's URL and sealed secret. */
export interface DueDelivery {
  seq: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  body: string;
  attempts: number;
  occurredAt: number;
  url: string;
  secretSealed: string;
}

/** A failed attempt. `retryInMs`: the backoff before the next one, if the delivery is still within its window. */
export interface AttemptOutcome {
  delivered: false;
  status?: number;
  error: string;
  retryInMs: number;
  retryForMs: number;
}

/** An `audit_events` row the matcher reads, with its task's handler type (from `task_history`). */
type MatchedEventRow = Omit<AuditEventRow, 'actor' | 'fencing_token'> & {
  task_type: string | null;
};

const INSERT_DELIVERIES = `
  INSERT INTO webhook_deliveries
    (subscription_id, event_id, event_type, occurred_at, body, state, created_at, next_attempt_at)
  SELECT d.subscription_id, d.event_id, d.event_type, d.occurred_at, d.body, 'pending', now(), now()
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[]) WITH ORDINALITY
         AS d(subscription_id, event_id, event_type, occurred_at, body, ord)
   ORDER BY d.ord
  ON CONFLICT (subscription_id, event_id) DO NOTHING`;

// UPDATE … RETURNING is wrapped in a CTE below: TypeORM answers that command
// with `[rows, count]`, a SELECT with the rows.

/**
 * Matching and delivery state of webhooks in PostgreSQL, for the draining
 * registry only (WebhookDeliverer).
 *
 * Exactly once: `match` reads a window of `audit_events` above the lowest
 * `matched_seq`, inserts each subscription's deliveries and advances its
 * `matched_seq` in one transaction, with the subscriptions locked; appends
 * to `audit_events` are serialised (TypeOrmAuditStore), so no event commits
 * later below a window already read. A delivery row is unique per
 * (subscription, event): a repeated match inserts nothing.
 */
export class WebhookDeliveryStore {
  private readonly calls: PgCalls;

  constructor(dataSource: DataSource, options: { assertReady?: () => void } = {}) {
    this.calls = new PgCalls(dataSource, options.assertReady);
  }

  /**
   * Matches the next window of stored audit events (at most `window` seqs)
   * against every subscription; returns how many deliveries were queued and
   * whether the window reached the newest event.
   */
  async match(window: number): Promise<{ queued: number; caughtUp: boolean }> {
    return this.calls.transaction(async (runner) => {
      const subscriptions = (await runner.query(
        `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions ORDER BY id FOR UPDATE`,
      )) as SubscriptionRow[];
      if (subscriptions.length === 0) return { queued: 0, caughtUp: true };
      const [{ last }] = (await runner.query(
        `SELECT COALESCE(MAX(seq), 0)::text AS last FROM audit_events`,
      )) as Array<{ last: string }>;
      const from = subscriptions.reduce(
        (low, s) => (BigInt(s.matched_seq) < low ? BigInt(s.matched_seq) : low),
        BigInt(last),
      );
      const through = minBig(from + BigInt(window), BigInt(last));
      if (through <= from) return { queued: 0, caughtUp: true };
      const events = (await runner.query(
        `SELECT e.seq::text AS seq, e.event_id, e."time", e."type", e.job_id, e.task_id, e.worker_id,
                e.attempt, e.detail, h."type" AS task_type
           FROM audit_events e LEFT JOIN task_history h ON h.task_id = e.task_id
          WHERE e.seq > $1::bigint AND e.seq <= $2::bigint AND e."type" = ANY($3::text[])
          ORDER BY e.seq`,
        [from.toString(), through.toString(), MAPPED_AUDIT_TYPES],
      )) as MatchedEventRow[];
      const queued = await insertMatches(runner, subscriptions, events);
      await runner.query(
        `UPDATE webhook_subscriptions SET matched_seq = $1::bigint
          WHERE id = ANY($2::uuid[]) AND matched_seq < $1::bigint`,
        [through.toString(), subscriptions.map((s) => s.id)],
      );
      return { queued, caughtUp: through === BigInt(last) };
    });
  }

  /**
   * The open deliveries of the subscriptions whose oldest open delivery is
   * due, oldest first, at most `perSubscription` each (sent one after the
   * other, in order), for at most `limit` subscriptions, skipping `busy` ones
   * (a lane in flight). One index range read per subscription (LATERAL):
   * the cost follows the subscriptions, not the backlog.
   */
  async due(
    busy: readonly string[],
    limit: number,
    perSubscription: number,
  ): Promise<DueDelivery[][]> {
    const rows = await this.calls.query<{
      seq: string;
      subscription_id: string;
      event_id: string;
      event_type: string;
      body: string;
      attempts: number;
      occurred_at: Date;
      url: string;
      secret_sealed: string;
      is_due: boolean;
      next_attempt_at: Date;
    }>(
      `SELECT d.seq::text AS seq, s.id AS subscription_id, d.event_id, d.event_type, d.body,
              d.attempts, d.occurred_at, s.url, s.secret_sealed,
              d.next_attempt_at <= now() AS is_due, d.next_attempt_at
         FROM webhook_subscriptions s
        CROSS JOIN LATERAL (
              SELECT seq, event_id, event_type, body, attempts, occurred_at, next_attempt_at
                FROM webhook_deliveries
               WHERE subscription_id = s.id AND state = 'pending'
               ORDER BY seq LIMIT $2) d
        WHERE NOT (s.id = ANY($1::uuid[]))
        ORDER BY s.id, d.seq`,
      [[...busy], perSubscription],
    );
    const lanes = new Map<
      string,
      { due: boolean; at: number; closed: boolean; deliveries: DueDelivery[] }
    >();
    for (const row of rows) {
      let lane = lanes.get(row.subscription_id);
      if (lane === undefined) {
        // The head decides: a head waiting for its retry holds the lane (order).
        lane = {
          due: row.is_due,
          at: row.next_attempt_at.getTime(),
          closed: false,
          deliveries: [],
        };
        lanes.set(row.subscription_id, lane);
      }
      // Behind the head, deliveries never tried and due, up to the first other one
      // (a retry further back waits until the lane reaches it: order).
      if (lane.deliveries.length > 0 && (!row.is_due || row.attempts > 0)) lane.closed = true;
      if (lane.closed) continue;
      lane.deliveries.push({
        seq: row.seq,
        subscriptionId: row.subscription_id,
        eventId: row.event_id,
        eventType: row.event_type,
        body: row.body,
        attempts: row.attempts,
        occurredAt: row.occurred_at.getTime(),
        url: row.url,
        secretSealed: row.secret_sealed,
      });
    }
    return [...lanes.values()]
      .filter((lane) => lane.due)
      .sort((a, b) => a.at - b.at)
      .slice(0, limit)
      .map((lane) => lane.deliveries);
  }

  /**
   * Records a failed attempt on a delivery that still has `attempts` attempts
   * (a registry that lost the drain meanwhile changes nothing): retried after
   * `retryInMs`, or failed once `retryForMs` have passed since it was queued.
   * Returns the delivery's state after it, or undefined when it had moved on.
   */
  async recordAttempt(
    delivery: Pick<DueDelivery, 'seq' | 'attempts'>,
    outcome: AttemptOutcome,
  ): Promise<DeliveryView['state'] | undefined> {
    const rows = await this.calls.query<{ state: DeliveryView['state'] }>(
      `WITH changed AS (UPDATE webhook_deliveries
              SET attempts = attempts + 1, last_attempt_at = now(), last_status = $3,
                  last_error = $4,
                  state = CASE WHEN now() - created_at >= $5 * interval '1 millisecond'
                               THEN 'failed' ELSE 'pending' END,
                  finished_at = CASE WHEN now() - created_at >= $5 * interval '1 millisecond'
                                     THEN now() END,
                  next_attempt_at = now() + $6 * interval '1 millisecond'
            WHERE seq = $1::bigint AND state = 'pending' AND attempts = $2
           RETURNING state) SELECT state FROM changed`,
      [
        delivery.seq,
        delivery.attempts,
        outcome.status ?? null,
        outcome.error.slice(0, 1_000),
        outcome.retryForMs,
        outcome.retryInMs,
      ],
    );
    return rows[0]?.state;
  }

  /**
   * Records deliveries that got a 2xx, each only if it still has the attempts
   * it was sent with. Returns the seqs recorded.
   */
  async recordDelivered(
    done: ReadonlyArray<{ seq: string; attempts: number; status: number }>,
  ): Promise<Set<string>> {
    if (done.length === 0) return new Set();
    const rows = await this.calls.query<{ seq: string }>(
      `WITH changed AS (UPDATE webhook_deliveries d
          SET state = 'delivered', attempts = d.attempts + 1, last_attempt_at = now(),
              last_status = u.status, last_error = NULL, finished_at = now()
         FROM unnest($1::bigint[], $2::integer[], $3::integer[]) AS u(seq, attempts, status)
        WHERE d.seq = u.seq AND d.state = 'pending' AND d.attempts = u.attempts
       RETURNING d.seq::text AS seq) SELECT seq FROM changed`,
      [done.map((d) => d.seq), done.map((d) => d.attempts), done.map((d) => d.status)],
    );
    return new Set(rows.map((row) => row.seq));
  }

  /** Open deliveries (the pending gauge). */
  async pendingCount(): Promise<number> {
    const rows = await this.calls.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM webhook_deliveries WHERE state = 'pending'`,
    );
    return rows[0].n;
  }
}

async function insertMatches(
  runner: QueryRunner,
  subscriptions: readonly SubscriptionRow[],
  events: readonly MatchedEventRow[],
): Promise<number> {
  const columns: [string[], string[], string[], Date[], string[]] = [[], [], [], [], []];
  for (const subscription of subscriptions) {
    const wanted = { events: subscription.events, filter: filterOf(subscription) };
    for (const event of events) {
      if (BigInt(event.seq) <= BigInt(subscription.matched_seq)) continue;
      const types = webhookTypesOf(event);
      if (types.length === 0) continue;
      const type = wantedType(wanted, types, { jobId: event.job_id, taskType: event.task_type });
      if (type === undefined) continue;
      columns[0].push(subscription.id);
      columns[1].push(event.event_id);
      columns[2].push(type);
      columns[3].push(event.time);
      columns[4].push(deliveryBody(type, event));
    }
  }
  if (columns[0].length > 0) await runner.query(INSERT_DELIVERIES, columns);
  return columns[0].length;
}

/** The JSON body of a delivery: `{id, type, occurredAt, data}`, `id` the audit event id. */
function deliveryBody(type: string, event: MatchedEventRow): string {
  const data: Record<string, unknown> = {};
  if (event.job_id !== null) data.jobId = event.job_id;
  if (event.task_id !== null) data.taskId = event.task_id;
  if (event.task_type !== null) data.taskType = event.task_type;
  if (event.worker_id !== null) data.workerId = event.worker_id;
  if (event.attempt !== null) data.attempt = event.attempt;
  if (event.detail !== null) data.detail = event.detail;
  return JSON.stringify({ id: event.event_id, type, occurredAt: event.time.toISOString(), data });
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
