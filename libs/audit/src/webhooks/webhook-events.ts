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
 * The webhook types an audit event stands for, most specific first; empty
 * when no webhook carries it. A subscription gets the event once, as the
 * first of these types it asks for.
 *
 * - `task.failed`: the task reached its final `failed` state. The audit
 *   `task.failed` is written for every failed attempt (`detail.state` is
 *   `retrying` when a retry follows, `running` for a gang member's part); only
 *   `state: "failed"` is final. A final attempt that timed out is an audit
 *   `task.timed_out` with `state: "failed"`: it is `task.failed` too.
 * - `task.timed_out`: any attempt that outlived its timeout.
 * - `job.misfired`: a `task.skipped` the misfire policy wrote (concurrency
 *   skips are not misfires).
 * - `leader.changed`: a leader's election (a revocation is followed by one).
 */
export function webhookTypesOf(event: MappedAuditEvent): readonly WebhookEventType[] {
  const final = event.detail?.state === 'failed';
  switch (event.type) {
    case 'task.failed':
      return final ? ['task.failed'] : [];
    case 'task.timed_out':
      return final ? ['task.failed', 'task.timed_out'] : ['task.timed_out'];
    case 'task.reassigned':
    case 'worker.left':
    case 'audit.backlog':
      return [event.type];
    case 'task.skipped':
      return event.detail?.reason === 'misfire' ? ['job.misfired'] : [];
    case 'leader.elected':
      return ['leader.changed'];
    default:
      return [];
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

/**
 * The type a subscription (its event list and filter) gets an event as, among
 * the event's `types` (webhookTypesOf), or undefined when it does not want it.
 */
export function wantedType(
  subscription: { events: readonly string[]; filter: WebhookFilter },
  types: readonly WebhookEventType[],
  about: { jobId?: string | null; taskType?: string | null },
): WebhookEventType | undefined {
  const { jobId, taskType } = subscription.filter;
  if (jobId !== undefined && about.jobId !== jobId) return undefined;
  if (taskType !== undefined && about.taskType !== taskType) return undefined;
  const all = subscription.events.includes('*');
  return types.find((type) => all || subscription.events.includes(type));
}
