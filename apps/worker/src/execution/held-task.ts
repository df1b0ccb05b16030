import type { AuditEvent, TaskRecord } from '@app/contracts';

/** A gang member's place: `workers[index]` is this worker. */
export interface GangPlace {
  size: number;
  index: number;
  workers: readonly string[];
}

/**
 * One write of a task: how it turns the current record into the next one, its
 * audit events, and what happens to the assignment nodes in the same
 * transaction. For a gang task it may be applied again to a fresher record.
 */
export interface Change {
  apply(current: TaskRecord): TaskRecord;
  events(next: TaskRecord): AuditEvent[];
  /**
   * `check`: our assignment must still exist; `own`: delete it; `gang`: delete
   * the assignment of every member still holding the task (ours included).
   */
  release: 'check' | 'own' | 'gang';
  /** Create a `/queue` entry naming the task (hand back). */
  notify?: boolean;
}

export type StartReport =
  | { state: 'queued'; change: Change }
  | { state: 'in_flight'; written: Promise<WriteOutcome> }
  | { state: 'done' };

/** `stale`: a version check or assignment check failed; `dropped`: given up (session lost). */
export type WriteOutcome = 'written' | 'stale' | 'dropped';

/**
 * A task this worker holds, as far as writing its status goes: the record and
 * znode version it last read or wrote (every write is a compare-and-set on it).
 */
export interface HeldTask {
  readonly id: string;
  readonly attempt: number;
  readonly type: string;
  readonly jobId: string | undefined;
  readonly gang: GangPlace | undefined;
  record: TaskRecord;
  version: number;
  /** When the handler started (epoch ms); 0 before. */
  startedAt: number;
  /** The `running` report, until it is written or folded into the finish. */
  start: StartReport | undefined;
  /** The worker gave the task up: nothing more is written for it. */
  dropped: boolean;
}
