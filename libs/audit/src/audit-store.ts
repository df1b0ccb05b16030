import type { AuditEvent, AuditEventType, TaskRecord, TaskState } from '@app/contracts';

/** An audit event as kept in PostgreSQL: `seq` orders the whole history (keyset cursor). */
export interface StoredAuditEvent extends AuditEvent {
  /** bigint as a decimal string: the insertion order. */
  seq: string;
}

export interface AuditQuery {
  jobId?: string;
  taskId?: string;
  workerId?: string;
  type?: AuditEventType;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** Keyset cursor: only events after this `seq`. */
  after?: string;
  /** 1..1000. */
  limit: number;
}

export interface AuditPage {
  events: StoredAuditEvent[];
  /** Present when more events match: pass it as `after`. */
  nextCursor?: string;
}

/** One row per task, kept current as its events arrive; the final record when it leaves ZooKeeper. */
export interface TaskHistory {
  taskId: string;
  jobId?: string;
  type?: string;
  state: TaskState;
  attempt: number;
  workerId?: string;
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** Error summary of the last failed attempt, if any. */
  error?: { code: string; message: string };
  /** The full record as it was when the task left ZooKeeper (same shape as `GET /v1/tasks/:id`). */
  record?: TaskRecord;
  updatedAt: number;
}

export interface TaskHistoryFilter {
  jobId?: string;
  state?: TaskState;
  /** Task ids sort by name; the page starts after this id. */
  after?: string;
  limit: number;
}

/**
 * The audit history in PostgreSQL. ZooKeeper stays the source of truth for
 * live state; this is history, written only by the drain.
 */
export interface AuditStore {
  /**
   * Inserts `events` in one transaction, idempotently (an event id seen before is
   * skipped), in the given order, and folds them into `task_history`. Returns
   * how many were new.
   */
  append(events: readonly AuditEvent[]): Promise<number>;
  /** Saves the final record of a terminal task that is about to leave ZooKeeper. */
  saveFinalRecord(record: TaskRecord): Promise<void>;
  query(query: AuditQuery): Promise<AuditPage>;
  taskHistory(taskId: string): Promise<TaskHistory | undefined>;
  listTaskHistory(filter: TaskHistoryFilter): Promise<{ tasks: TaskHistory[]; next?: string }>;
  /** Final records of retired tasks submitted with one of `keys`, by key. */
  retiredByIdempotencyKeys(keys: readonly string[]): Promise<Map<string, TaskRecord>>;
  /** Events inserted after `seq`, in order (for live streams). */
  eventsAfter(seq: string, limit: number): Promise<StoredAuditEvent[]>;
  /**
   * How many events of each of `types` happened in each whole second since
   * `since` (epoch ms, by the events' own time); only non-empty seconds.
   */
  countsPerSecond(since: number, types: readonly AuditEventType[]): Promise<SecondCount[]>;
  /** The highest `seq` stored, '0' when empty. */
  lastSeq(): Promise<string>;
  /** True when PostgreSQL answers. */
  ping(): Promise<boolean>;
}

/** `count` events of `type` in the second starting at `second` (epoch seconds). */
export interface SecondCount {
  second: number;
  type: AuditEventType;
  count: number;
}

/** Injection token of the AuditStore. */
export const AUDIT_STORE = Symbol('AUDIT_STORE');
