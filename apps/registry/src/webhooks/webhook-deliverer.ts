import { EventEmitter } from 'node:events';
import { Backoff, Wakeup, type StructuredLogger } from '@app/zk';
import { OutboundHttpClient, OutboundPolicy, type WebhookSettings } from '@app/common';
import {
  SecretBox,
  webhookSignature,
  type DueDelivery,
  type WebhookDeliveryStore,
} from '@app/audit';
import { errorText } from '../audit-drain/error-text';
import type { WebhookMetrics } from './webhook-metrics';

/** Most audit seqs matched per transaction. */
const MATCH_WINDOW = 5_000;
/** Most deliveries a subscription's lane sends (one after the other) before the next look. */
const LANE_LENGTH = 100;
/** Successes recorded per statement, at most (see sendLane). */
const RECORD_EVERY = 20;
/** How often the pending gauge is recounted. */
const COUNT_EVERY_MS = 5_000;

export interface WebhookDelivererEvents {
  /** An attempt ended: the delivery is `delivered`, still `pending` (retrying) or `failed`. */
  attempted: [delivery: DueDelivery, state: 'delivered' | 'pending' | 'failed'];
}

/**
 * Delivers webhooks while this registry drains (one per DrainTerm): matches
 * newly stored audit events to subscriptions (WebhookDeliveryStore.match), then POSTs
 * each subscription's open deliveries, signed, through the outbound policy
 * and client (the `http` handler's checks), and records the outcomes.
 *
 * - Order: one lane per subscription: its oldest open deliveries, sent one
 *   after the other; a delivery that is not delivered ends the lane, and the
 *   next waits until it is delivered or failed.
 * - Isolation: attempts run beside the loop, at most `maxInFlight` at once,
 *   each bounded by `timeoutMs`; a slow endpoint holds only its own queue.
 *   Nothing here runs in the drain's or the scheduler's path.
 * - Nothing lost: every state is a row in PostgreSQL. A registry killed
 *   mid-attempt leaves the delivery open, and the next drainer sends it again
 *   (same `X-Zks-Delivery`). PostgreSQL down: the loop waits (Backoff).
 * - Failure: a non-2xx, a timeout, a refused destination: retried after
 *   `Backoff.delayAfter(attempts)`, until `retryForMs` after it was queued,
 *   then marked failed.
 */
export class WebhookDeliverer extends EventEmitter<WebhookDelivererEvents> {
  private readonly client: OutboundHttpClient;
  private readonly box: SecretBox;
  private readonly wakeup = new Wakeup();
  private readonly abort = new AbortController();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly backoff: Backoff;
  private loop: Promise<void> | undefined;
  private countedAt = 0;

  constructor(
    private readonly store: WebhookDeliveryStore,
    private readonly settings: WebhookSettings & { secretKey: Buffer },
    private readonly metrics: WebhookMetrics,
    private readonly logger: StructuredLogger,
  ) {
    super();
    this.box = new SecretBox(settings.secretKey);
    this.client = new OutboundHttpClient({
      policy: new OutboundPolicy({ allowedHosts: settings.allowedHosts }),
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: settings.maxResponseBytes,
      keepBodyBytes: 0,
      // A redirect is an answer that is not a 2xx: retried, never followed.
      maxRedirects: 0,
    });
    this.backoff = new Backoff({ minMs: 100, maxMs: 5_000, jitter: 0.2 });
  }

  start(): void {
    if (this.loop !== undefined) throw new Error('WebhookDeliverer already started');
    this.loop = this.run();
  }

  /** New events were stored: match and deliver now rather than at the next poll. */
  readonly notify = (): void => this.wakeup.signal();

  /** Stops the loop and aborts attempts in flight (their deliveries stay open for the next drainer). */
  async close(): Promise<void> {
    this.abort.abort(new Error('webhook deliverer closed'));
    await this.loop;
    await Promise.all(this.inFlight.values());
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let wait = this.settings.pollMs;
      try {
        for (let caughtUp = false; !caughtUp && !signal.aborted;) {
          ({ caughtUp } = await this.store.match(MATCH_WINDOW));
        }
        await this.dispatch();
        await this.count();
        this.backoff.reset();
      } catch (error: unknown) {
        if (signal.aborted) break;
        wait = this.backoff.next();
        this.logger.warn('webhook step failed; deliveries wait', {
          error: errorText(error),
          retryInMs: wait,
        });
      }
      await this.wakeup.wait(wait, signal).catch(() => undefined);
    }
  }

  private async dispatch(): Promise<void> {
    const free = this.settings.maxInFlight - this.inFlight.size;
    if (free <= 0) return;
    for (const lane of await this.store.due([...this.inFlight.keys()], free, LANE_LENGTH)) {
      const subscription = lane[0].subscriptionId;
      const sending = this.sendLane(lane).finally(() => {
        this.inFlight.delete(subscription);
        // Its subscription's next delivery may be due now.
        this.wakeup.signal();
      });
      this.inFlight.set(subscription, sending);
    }
  }

  /**
   * A subscription's deliveries in order, one at a time, up to the first that
   * is not delivered. Successes are recorded a few at a time (one statement
   * and one commit for up to RECORD_EVERY), always before the lane ends or a
   * failure is recorded: a crash in between only makes the next drainer send
   * those again, with the same ids.
   */
  private async sendLane(lane: readonly DueDelivery[]): Promise<void> {
    const done: Array<{ delivery: DueDelivery; status: number }> = [];
    try {
      for (const delivery of lane) {
        if (this.abort.signal.aborted) return;
        const outcome = await this.attempt(delivery);
        if (outcome === 'aborted') return;
        if (outcome.delivered) {
          done.push({ delivery, status: outcome.status });
          if (done.length >= RECORD_EVERY) await this.recordDelivered(done.splice(0));
          continue;
        }
        await this.recordDelivered(done.splice(0));
        await this.recordFailure(delivery, outcome);
        return;
      }
    } finally {
      await this.recordDelivered(done.splice(0)).catch((failure: unknown) => {
        this.logger.warn('webhook deliveries not recorded; they will be sent again', {
          error: errorText(failure),
          count: done.length,
        });
      });
    }
  }

  /** One attempt: its outcome, or 'aborted' when the deliverer is closing (nothing to record). */
  private async attempt(
    delivery: DueDelivery,
  ): Promise<
    | { delivered: true; status: number }
    | { delivered: false; status?: number; error: string }
    | 'aborted'
  > {
    const signal = this.abort.signal;
    try {
      const secret = this.box.open(delivery.secretSealed, delivery.subscriptionId);
      const response = await this.client.request({
        method: 'POST',
        url: delivery.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'zk-scheduler-webhooks/1',
          'x-zks-event': delivery.eventType,
          'x-zks-delivery': delivery.eventId,
          'x-zks-signature': webhookSignature(secret, delivery.body, Math.floor(Date.now() / 1000)),
        },
        body: delivery.body,
        signal,
      });
      const { status } = response;
      if (status >= 200 && status < 300) {
        this.metrics.lag.observe(Math.max(0, Date.now() - delivery.occurredAt) / 1000);
        return { delivered: true, status };
      }
      return { delivered: false, status, error: `HTTP ${status}` };
    } catch (failure: unknown) {
      // Closing: the delivery stays open for the next drainer.
      if (signal.aborted) return 'aborted';
      return { delivered: false, error: errorText(failure) };
    }
  }

  private async recordDelivered(
    done: ReadonlyArray<{ delivery: DueDelivery; status: number }>,
  ): Promise<void> {
    if (done.length === 0) return;
    const recorded = await this.store.recordDelivered(
      done.map(({ delivery, status }) => ({
        seq: delivery.seq,
        attempts: delivery.attempts,
        status,
      })),
    );
    this.metrics.deliveries.inc({ outcome: 'delivered' }, recorded.size);
    for (const { delivery } of done) {
      if (recorded.has(delivery.seq)) this.emit('attempted', delivery, 'delivered');
    }
  }

  private async recordFailure(
    delivery: DueDelivery,
    outcome: { status?: number; error: string },
  ): Promise<void> {
    const state = await this.store
      .recordAttempt(delivery, {
        delivered: false,
        status: outcome.status,
        error: outcome.error,
        retryInMs: Backoff.delayAfter(
          { minMs: this.settings.backoffMinMs, maxMs: this.settings.backoffMaxMs, jitter: 0.2 },
          delivery.attempts,
        ),
        retryForMs: this.settings.retryForMs,
      })
      .catch((failure: unknown) => {
        this.logger.warn('webhook attempt not recorded; it will be made again', {
          error: errorText(failure),
        });
        return undefined;
      });
    if (state === undefined) return;
    this.metrics.deliveries.inc({ outcome: state === 'pending' ? 'retried' : state });
    if (state === 'failed') {
      this.logger.warn('webhook delivery failed for good', {
        subscription: delivery.subscriptionId,
        event: delivery.eventId,
        attempts: delivery.attempts + 1,
      });
    }
    this.emit('attempted', delivery, state);
  }

  private async count(): Promise<void> {
    if (Date.now() - this.countedAt < COUNT_EVERY_MS) return;
    this.metrics.pending.set(await this.store.pendingCount());
    this.countedAt = Date.now();
  }
}
