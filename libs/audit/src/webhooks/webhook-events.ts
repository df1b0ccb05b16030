import type { AuditEventType } from '@app/contracts';

/** What a subscription may ask for (`*`: every one of them). */
export const WEBHOOK_EVENT_TYPES = [
  'task.failed',
  'task.timed_out',
  'task.reassigned',
  'job.misfired',
  'worker.left',
  'leader.changed',
  'audit.backlog',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The types a subscription lists: the webhook types, or `*`. */
export type WebhookEventSelector = WebhookEventType | '*';

/** The event `POST /v1/webhooks/:id/test` sends; never taken from the history. */
export const PING_EVENT = 'ping';

/** The fields of a stored audit event the mapping looks at. */
export interface MappedAuditEvent {
  type: AuditEventType | string;
  detail?: Record<string, unknown> | null;
}

/**
 * The webhook type of an audit event, or undefined when no webhook carries it.
 * `task.failed` is only ever written for a final failure (a failed attempt
 * that will be retried is `task.retry_scheduled`); `job.misfired` is a
 * `task.skipped` the misfire policy wrote (concurrency skips are not misfires);
 * `leader.changed` is a leader's election (its revocation is followed by the
 * next election).
 */
export function webhookTypeOf(event: MappedAuditEvent): WebhookEventType | undefined {
  switch (event.type) {
    case 'task.failed':
    case 'task.timed_out':
    case 'task.reassigned':
    case 'worker.left':
    case 'audit.backlog':
      return event.type;
    case 'task.skipped':
      return event.detail?.reason === 'misfire' ? 'job.misfired' : undefined;
    case 'leader.elected':
      return 'leader.changed';
    default:
      return undefined;
  }
}

/** The audit event types that can map to a webhook type (the matcher's SQL filter). */
export const MAPPED_AUDIT_TYPES: readonly string[] = [
  'task.failed',
  'task.timed_out',
  'task.reassigned',
  'worker.left',
  'audit.backlog',
  'task.skipped',
  'leader.elected',
];

export interface WebhookFilter {
  jobId?: string;
  taskType?: string;
}

/** Whether a subscription (its event list and filter) wants an event of `type` about this job and task type. */
export function subscriptionWants(
  subscription: { events: readonly string[]; filter: WebhookFilter },
  type: WebhookEventType,
  about: { jobId?: string | null; taskType?: string | null },
): boolean {
  if (!subscription.events.includes('*') && !subscription.events.includes(type)) return false;
  const { jobId, taskType } = subscription.filter;
  if (jobId !== undefined && about.jobId !== jobId) return false;
  if (taskType !== undefined && about.taskType !== taskType) return false;
  return true;
}
