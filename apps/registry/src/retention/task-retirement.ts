import { NotLeaderError, type ZkClient, type ZkOp, type ZkOpResult } from '@app/zk';
import { isTerminal, type TaskRecord } from '@app/contracts';
import type { AuditStore } from '@app/audit';
import { TaskWrites, WriteBatcher, type VersionedTask } from '@app/store';
import { barrierPaths, removeBarrier } from './barrier-cleanup';

export interface RetirementOptions {
  client: ZkClient;
  store: AuditStore;
  /** The drainer's fenced multi. */
  commit: (ops: ZkOp[]) => Promise<ZkOpResult[]>;
  retentionMs: number;
  now: () => number;
}

/** What became of the tasks given to `retire`. */
export interface RetirementOutcome {
  /** Removed from ZooKeeper; their final record is in PostgreSQL. */
  retired: string[];
  /** To look at again at `at` (retention not over, PostgreSQL or ZooKeeper trouble). */
  later: Array<{ id: string; at: number }>;
  /** The first PostgreSQL failure, if any (for metrics and logs). */
  storeError?: unknown;
}

/** How long a task waits after a PostgreSQL or ZooKeeper failure before another try. */
const RETRY_AFTER_MS = 2_000;

/**
 * Retires finished tasks from ZooKeeper (invariant 6). For each task: read
 * `/tasks/<id>` (record and version); only a terminal task whose retention
 * has run out (`finishedAt + retentionMs`) goes on: its final record is saved
 * in `task_history` (`saveFinalRecord`), then `/tasks/<id>` is deleted *at the
 * version read* together with its `/idempotency/<hash>` node, in a fenced
 * multi. A task that changed meanwhile fails the version check and is looked
 * at again; a task that is not terminal is never touched.
 */
export class TaskRetirement {
  private readonly tasks: TaskWrites;

  constructor(private readonly options: RetirementOptions) {
    this.tasks = new TaskWrites(options.client, new WriteBatcher({ commit: options.commit }));
  }

  async retire(ids: readonly string[]): Promise<RetirementOutcome> {
    const outcome: RetirementOutcome = { retired: [], later: [] };
    const now = this.options.now();
    const reads = await Promise.all(ids.map((id) => this.tasks.read(id)));
    const ready: VersionedTask[] = [];
    for (const candidate of reads) {
      if (candidate === undefined || !isTerminal(candidate.record.state)) continue; // gone, or live: not ours
      const at = (candidate.record.finishedAt ?? now) + this.options.retentionMs;
      if (at > now) outcome.later.push({ id: candidate.record.id, at });
      else ready.push(candidate);
    }
    if (ready.length === 0) return outcome;

    const saved = await Promise.all(
      ready.map((candidate) =>
        this.options.store.saveFinalRecord(candidate.record).then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    const stored: VersionedTask[] = [];
    saved.forEach((error, i) => {
      if (error === undefined) stored.push(ready[i]);
      else {
        outcome.storeError ??= error;
        outcome.later.push({ id: ready[i].record.id, at: now + RETRY_AFTER_MS });
      }
    });

    await Promise.all(stored.map((candidate) => this.removeBarriers(candidate.record)));
    const removed = await Promise.all(stored.map((candidate) => this.remove(candidate)));
    removed.forEach((result, i) => {
      const id = stored[i].record.id;
      if (result === 'retired') outcome.retired.push(id);
      else if (result === 'retry') outcome.later.push({ id, at: now + RETRY_AFTER_MS });
    });
    return outcome;
  }

  /** A task changed meanwhile, or an outcome unknown: the next look settles it. */
  private async remove(task: VersionedTask): Promise<'retired' | 'gone' | 'retry'> {
    try {
      const outcome = await this.tasks.retire(task);
      return outcome === 'moved' || outcome === 'unknown' ? 'retry' : outcome;
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      return 'retry';
    }
  }

  private async removeBarriers(record: TaskRecord): Promise<void> {
    if (record.parallelism <= 1) return;
    for (const path of barrierPaths(record.id, record.attempt)) {
      await removeBarrier(this.options.client, path).catch(() => false);
    }
  }
}
