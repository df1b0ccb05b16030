/** Every state change, written in the same ZooKeeper `multi()` as the change (the outbox). */

export const AUDIT_EVENT_TYPES = [
  'job.created',
  'job.updated',
  'job.paused',
  'job.resumed',
  'job.deleted',
  'task.created',
  'task.assigned',
  'task.started',
  'task.succeeded',
  'task.failed',
  'task.retry_scheduled',
  'task.reassigned',
  'task.cancelled',
  'task.skipped',
  'task.timed_out',
  'leader.elected',
  'leader.revoked',
  'worker.joined',
  'worker.left',
  /** The audit outbox went above its warning depth (REGISTRY_OUTBOX_WARN_DEPTH): written by the drainer. */
  'audit.backlog',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  /** Unique; the drain inserts idempotently on it. */
  id: string;
  /** Epoch ms. */
  time: number;
  type: AuditEventType;
  jobId?: string;
  taskId?: string;
  workerId?: string;
  attempt?: number;
  /** Which process acted: `<service>/<member id>/<pid>`. */
  actor: string;
  /** The leader's fencing token for leader writes (`<epoch>:<candidate>`). */
  fencingToken?: string;
  /** Small JSON: the state reached, an error summary, a reason. */
  detail?: Record<string, unknown>;
}

/** One outbox node: the events of one transaction. */
export interface OutboxEntry {
  events: AuditEvent[];
}
