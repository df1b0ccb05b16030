import type { WebhookEventSelector, WebhookFilter } from './webhook-events';

/** A subscription as the API shows it: never its secret. */
export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEventSelector[];
  filter?: WebhookFilter;
  createdAt: string;
  updatedAt: string;
}

/** The answer to a create (or a secret change): the secret, this once. */
export interface CreatedWebhookView extends WebhookView {
  secret: string;
}

/** One event's delivery to one subscription. */
export interface DeliveryView {
  /** The audit event id: `X-Zks-Delivery`, and the body's `id`. */
  eventId: string;
  type: string;
  /** `pending` (not yet delivered, retrying), `delivered` (a 2xx), `failed` (retried for the whole window). */
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  occurredAt: string;
  queuedAt: string;
  lastAttemptAt?: string;
  /** HTTP status of the last attempt, when one came back. */
  lastStatus?: number;
  /** Why the last attempt failed. */
  lastError?: string;
  /** When the next attempt is due (pending deliveries). */
  nextAttemptAt?: string;
  finishedAt?: string;
}

export interface DeliveryPage {
  items: DeliveryView[];
  /** Older deliveries follow: pass it as `cursor`; null on the last page. */
  nextCursor: string | null;
}

export interface WebhookPage {
  items: WebhookView[];
  /** Pass it as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}
