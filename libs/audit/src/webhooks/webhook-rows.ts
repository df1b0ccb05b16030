import type { WebhookEventSelector, WebhookFilter } from './webhook-events';
import type { DeliveryView, WebhookView } from './webhook-views';

/** Rows of the webhook tables as node-postgres returns them, and their API views. */

export interface SubscriptionRow {
  id: string;
  url: string;
  events: string[];
  job_id: string | null;
  task_type: string | null;
  matched_seq: string;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  seq: string;
  event_id: string;
  event_type: string;
  state: DeliveryView['state'];
  attempts: number;
  occurred_at: Date;
  created_at: Date;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  finished_at: Date | null;
}

export const SUBSCRIPTION_COLUMNS = `id, url, events, job_id, task_type, matched_seq::text AS matched_seq, created_at, updated_at`;
export const DELIVERY_COLUMNS = `seq::text AS seq, event_id, event_type, state, attempts, occurred_at, created_at,
  next_attempt_at, last_attempt_at, last_status, last_error, finished_at`;

export function filterOf(row: SubscriptionRow): WebhookFilter {
  const filter: WebhookFilter = {};
  if (row.job_id !== null) filter.jobId = row.job_id;
  if (row.task_type !== null) filter.taskType = row.task_type;
  return filter;
}

export function toView(row: SubscriptionRow): WebhookView {
  const filter = filterOf(row);
  return {
    id: row.id,
    url: row.url,
    events: row.events as WebhookEventSelector[],
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toDeliveryView(row: DeliveryRow): DeliveryView {
  const view: DeliveryView = {
    eventId: row.event_id,
    type: row.event_type,
    state: row.state,
    attempts: row.attempts,
    occurredAt: row.occurred_at.toISOString(),
    queuedAt: row.created_at.toISOString(),
  };
  if (row.last_attempt_at !== null) view.lastAttemptAt = row.last_attempt_at.toISOString();
  if (row.last_status !== null) view.lastStatus = row.last_status;
  if (row.last_error !== null) view.lastError = row.last_error;
  if (row.state === 'pending') view.nextAttemptAt = row.next_attempt_at.toISOString();
  if (row.finished_at !== null) view.finishedAt = row.finished_at.toISOString();
  return view;
}
