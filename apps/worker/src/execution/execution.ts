import type { DoubleBarrier } from '@app/zk';
import type { TaskRecord } from '@app/contracts';
import type { GangPlace, HeldTask, StartReport } from './held-task';

/**
 * - `waiting`: held until `runAt`;
 * - `queued`: due, but the local capacity is full;
 * - `gathering`: a gang member waiting at the barrier for the others;
 * - `running`: the handler runs;
 * - `finishing`: the outcome is decided and being written;
 * - `done`: written; forgotten once the assignment is gone from a listing.
 */
export type Phase = 'waiting' | 'queued' | 'gathering' | 'running' | 'finishing' | 'done';

/** One attempt of one task on this worker. */
export class Execution implements HeldTask {
  readonly id: string;
  readonly attempt: number;
  readonly type: string;
  readonly jobId: string | undefined;
  record: TaskRecord;
  version: number;
  startedAt = 0;
  start: StartReport | undefined;
  dropped = false;

  phase: Phase = 'waiting';
  readonly controller = new AbortController();
  timeoutTimer: NodeJS.Timeout | undefined;
  barrier: DoubleBarrier | undefined;
  /** The outcome is decided (succeeded, failed, aborted): later handler results are ignored. */
  settled = false;
  /** Counts against the local capacity. */
  slot = false;

  constructor(
    record: TaskRecord,
    version: number,
    readonly gang: GangPlace | undefined,
  ) {
    this.id = record.id;
    this.attempt = record.attempt;
    this.type = record.type;
    this.jobId = record.jobId;
    this.record = record;
    this.version = version;
  }
}

/** An assignment being read, or one this worker does not run. */
export interface Marker {
  readonly kind: 'admitting' | 'ignored';
  /**
   * The session ended while this assignment was being read: whatever attempt
   * the read finds was assigned to the lost session and is given up.
   */
  dropped?: boolean;
}

export const IGNORED: Marker = Object.freeze({ kind: 'ignored' });
