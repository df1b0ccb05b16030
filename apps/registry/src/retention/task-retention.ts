import {
  NotLeaderError,
  Wakeup,
  type StructuredLogger,
  type ZkClient,
  type ZkOp,
  type ZkOpResult,
} from '@app/zk';
import type { AuditEvent, AuditEventType } from '@app/contracts';
import type { AuditStore } from '@app/audit';
import type { DrainMetrics } from '../audit-drain/drain-metrics';
import { errorText } from '../audit-drain/error-text';
import { RetentionQueue } from './retention-queue';
import { scanFinishedTasks, sweepBarriers } from './retention-scan';
import { TaskRetirement } from './task-retirement';

export interface TaskRetentionOptions {
  client: ZkClient;
  store: AuditStore;
  /** The drainer's fenced multi. */
  commit: (ops: ZkOp[]) => Promise<ZkOpResult[]>;
  retentionMs: number;
  /** Highest outbox sequence number stored in PostgreSQL (the drainer's progress). */
  committedThrough: () => number;
  metrics: DrainMetrics;
  logger: StructuredLogger;
  now?: () => number;
}

/** Events after which a task may be terminal (the record decides). */
const ENDING_EVENTS: ReadonlySet<AuditEventType> = new Set([
  'task.succeeded',
  'task.failed',
  'task.timed_out',
  'task.cancelled',
]);
/** Tasks retired per round. */
const ROUND = 200;
/** A full rescan of `/tasks` and `/barriers` this often (a safety net; events do the work). */
const RESCAN_EVERY_MS = 10 * 60_000;
const RETRY_SCAN_MS = 2_000;

/**
 * Keeps ZooKeeper small (invariant 6), run by the draining registry: a finished
 * task leaves ZooKeeper once its history is in PostgreSQL and `retentionMs`
 * has passed since it finished (see TaskRetirement for the removal itself).
 *
 * Candidates come from the drain (each stored batch's ending events: their
 * history is in PostgreSQL by then) and from a scan of `/tasks` when this
 * registry becomes the drainer (tasks an earlier drainer stored the end of):
 * those wait until the drain has stored every outbox node that existed when
 * their records were read. The scan also sweeps gang barriers that nobody
 * else removes. Non-terminal tasks are never touched.
 *
 * Failure modes: a candidate offered to a full queue (over a million waiting)
 * is dropped until the next rescan; PostgreSQL down: retirement waits (the
 * final record must be saved before the znode goes).
 */
export class TaskRetention {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly wake = new Wakeup();
  private readonly queue = new RetentionQueue();
  /** Scan finds waiting for the drain to pass their watermark. */
  private gated: Array<{ id: string; at: number; watermark: number }> = [];
  private readonly retirement: TaskRetirement;
  private readonly now: () => number;
  private nextScanAt = 0;
  private dropped = false;

  constructor(private readonly options: TaskRetentionOptions) {
    this.now = options.now ?? Date.now;
    this.retirement = new TaskRetirement({
      client: options.client,
      store: options.store,
      commit: options.commit,
      retentionMs: options.retentionMs,
      now: this.now,
    });
  }

  /** Tasks waiting (for their delay, or for the drain). */
  get pending(): number {
    return this.queue.size + this.gated.length;
  }

  start(): void {
    if (this.running || this.loop) throw new Error('TaskRetention.start() called twice');
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake.signal();
    await this.loop;
    this.options.metrics.retentionPending.set(0);
  }

  /** A batch the drain has stored: tasks it ended are candidates now. */
  onDrained(events: readonly AuditEvent[]): void {
    let offered = false;
    for (const event of events) {
      if (event.taskId === undefined || !ENDING_EVENTS.has(event.type)) continue;
      this.offer(event.taskId, event.time + this.options.retentionMs);
      offered = true;
    }
    if (offered || this.gated.length > 0) this.wake.signal();
  }

  private offer(id: string, at: number): void {
    if (!this.queue.offer(id, at) && !this.dropped) {
      this.dropped = true;
      this.options.logger.warn(
        'retention queue is full; the next rescan picks up what was dropped',
        {
          capacity: this.queue.capacity,
        },
      );
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (
          this.now() >= this.nextScanAt ||
          (this.dropped && this.queue.size < this.queue.capacity / 2)
        ) {
          await this.scan();
        }
        this.releaseGated();
        this.options.metrics.retentionPending.set(this.pending);
        const due = this.queue.nextDue();
        const now = this.now();
        if (due === undefined || due > now) {
          const until = Math.min(due ?? Infinity, this.nextScanAt);
          await this.wake.wait(Math.max(1, Math.min(until - now, RESCAN_EVERY_MS)));
          continue;
        }
        await this.retireDue(now);
      } catch (error) {
        if (!this.running) return;
        if (error instanceof NotLeaderError) {
          this.running = false;
          return;
        }
        this.options.logger.warn('retention step failed; retrying', { error: errorText(error) });
        await this.wake.wait(RETRY_SCAN_MS);
      }
    }
  }

  private async retireDue(now: number): Promise<void> {
    const ids = this.queue.takeDue(now, ROUND);
    let outcome;
    try {
      outcome = await this.retirement.retire(ids);
    } catch (error) {
      for (const id of ids) this.offer(id, now + RETRY_SCAN_MS);
      throw error;
    }
    for (const { id, at } of outcome.later) this.offer(id, at);
    if (outcome.retired.length > 0) this.options.metrics.retiredTasks.inc(outcome.retired.length);
    if (outcome.storeError !== undefined) {
      this.options.metrics.postgresErrors.inc({ operation: 'save_final_record' });
      this.options.logger.warn(
        'could not save final task records; tasks stay in ZooKeeper for now',
        {
          error: errorText(outcome.storeError),
        },
      );
      // PostgreSQL is in trouble: do not spin on the tasks just put back.
      await this.wake.wait(RETRY_SCAN_MS);
    }
  }

  /** Finished tasks an earlier drainer left (gated on the drain), and stale barriers. */
  private async scan(): Promise<void> {
    this.nextScanAt = this.now() + RETRY_SCAN_MS;
    const { finished, watermark } = await scanFinishedTasks(this.options.client);
    this.dropped = false;
    const now = this.now();
    for (const task of finished) {
      if (this.queue.has(task.id)) continue;
      const at = (task.finishedAt ?? now) + this.options.retentionMs;
      this.gated.push({ id: task.id, at, watermark });
    }
    const barriers = await sweepBarriers(this.options.client);
    this.nextScanAt = this.now() + RESCAN_EVERY_MS;
    this.options.logger.log('retention scan done', {
      finishedTasks: finished.length,
      watermark,
      barriersRemoved: barriers,
    });
  }

  private releaseGated(): void {
    if (this.gated.length === 0) return;
    const through = this.options.committedThrough();
    const waiting: typeof this.gated = [];
    for (const entry of this.gated) {
      if (entry.watermark <= through) this.offer(entry.id, entry.at);
      else waiting.push(entry);
    }
    this.gated = waiting;
  }
}
