/**
 * Wire shapes of the registry's public HTTP API (`/v1/audit`, `/v1/cluster`,
 * `/v1/events`), for clients in this repository (tests, benchmarks, the CLI).
 * Times are ISO 8601 strings; absent values are `null`. The gRPC API carries
 * the same fields (see `proto/registry/v1/registry.proto`). Errors have the
 * scheduler API's body (`ApiErrorBody` in `./scheduler-api`).
 */
import type { AuditEventType } from '../audit-event';

export const DEFAULT_AUDIT_PAGE_LIMIT = 100;
export const MAX_AUDIT_PAGE_LIMIT = 1_000;

/** One audit event as kept in PostgreSQL; `seq` orders the whole history. */
export interface AuditEventView {
  /** Decimal string (a PostgreSQL bigint): the keyset cursor and the SSE event id. */
  seq: string;
  id: string;
  time: string;
  type: AuditEventType;
  jobId: string | null;
  taskId: string | null;
  workerId: string | null;
  attempt: number | null;
  actor: string;
  fencingToken: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditPageView {
  items: AuditEventView[];
  /** Pass as `cursor` for the next page; null when no more rows match now. */
  nextCursor: string | null;
}

export interface LeaderView {
  id: string;
  pid: number;
  endpoint: string;
  since: string;
  fencingToken: string;
  /**
   * The leader's epoch, the fencing token's first part (its candidate node's
   * creation zxid, a decimal int64): higher for every later leader.
   */
  epoch: string;
  /** False when `/leader` names a candidate that has left the election (a dead leader not replaced yet). */
  inElection: boolean;
}

export interface MemberView {
  id: string;
  endpoint: string;
  pid: number;
  startedAt: string;
}

export interface SchedulerView extends MemberView {
  leader: boolean;
}

export interface WorkerView extends MemberView {
  capacity: number;
  /** Assignments in `/assign/<worker>` now. */
  running: number;
  labels: Record<string, string>;
  draining: boolean;
}

export interface RegistryView extends MemberView {
  /** This registry drains the audit outbox into PostgreSQL. */
  drainer: boolean;
}

export interface ClusterView {
  leader: LeaderView | null;
  schedulers: SchedulerView[];
  workers: WorkerView[];
  registries: RegistryView[];
  /** Member id of the registry draining the outbox, if any. */
  drainer: string | null;
  /** True while the registry's ZooKeeper view may be out of date (connection trouble). */
  stale: boolean;
  /** Outbox nodes waiting to be drained into PostgreSQL; null while ZooKeeper cannot say. */
  outboxDepth: number | null;
  /** This registry's ZooKeeper session: `connected`, `connecting`, `suspended`… */
  zookeeper: { state: string };
}

/** GET /v1/access: what the caller's token may do (the console goes read-only for a reader). */
export interface AccessView {
  /** False when the cluster runs without API tokens: everyone may do everything. */
  tokensRequired: boolean;
  /** The caller's role (`admin` when tokens are not required). */
  role: 'reader' | 'submitter' | 'admin';
  /** The name of the caller's token; null without tokens. */
  tokenName: string | null;
}

/** Outcomes counted by GET /v1/task-rates (audit event types). */
export const TASK_RATE_TYPES = [
  'task.created',
  'task.succeeded',
  'task.failed',
  'task.retry_scheduled',
  'task.reassigned',
  'task.cancelled',
  'task.timed_out',
] as const;

export const DEFAULT_TASK_RATE_MINUTES = 15;
export const MAX_TASK_RATE_MINUTES = 60;

/** GET /v1/task-rates: events per second by type, from the audit history. */
export interface TaskRatesView {
  /** Start of the window (inclusive). */
  since: string;
  /** Seconds with at least one event, ascending: epoch seconds and counts by event type. */
  seconds: Array<{ at: number; counts: Partial<Record<(typeof TASK_RATE_TYPES)[number], number>> }>;
}
