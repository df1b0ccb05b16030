import {
  BadVersionError,
  NoNodeError,
  NotLeaderError,
  Op,
  type ZkClient,
  type ZkOp,
  type ZkOpResult,
} from '@app/zk';
import { ZkLayout, isTerminal, type TaskRecord } from '@app/contracts';
import type { AuditStore } from '@app/audit';
import { WriteBatcher, decodeJson } from '@app/store';
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

interface Candidate {
  record: TaskRecord;
  version: number;
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
  private readonly writes: WriteBatcher;

  constructor(private readonly options: RetirementOptions) {
    this.writes = new WriteBatcher({ commit: options.commit });
  }

  async retire(ids: readonly string[]): Promise<RetirementOutcome> {
    const outcome: RetirementOutcome = { retired: [], later: [] };
    const now = this.options.now();
    const reads = await Promise.all(ids.map((id) => this.read(id)));
    const ready: Candidate[] = [];
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
    const stored: Candidate[] = [];
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

  private async read(id: string): Promise<Candidate | undefined> {
    try {
      const { data, stat } = await this.options.client.get(ZkLayout.task(id));
      return { record: decodeJson<TaskRecord>(data), version: stat.version };
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  /** Deletes the task (at its version) and its idempotency node in one fenced transaction. */
  private async remove(candidate: Candidate): Promise<'retired' | 'gone' | 'retry'> {
    const { record, version } = candidate;
    const ops: ZkOp[] = [Op.delete(ZkLayout.task(record.id), version)];
    if (record.idempotencyKey !== undefined) {
      ops.push(Op.delete(ZkLayout.idempotency(record.idempotencyKey, record.owner)));
    }
    for (;;) {
      try {
        await this.writes.submit({ ops });
        return 'retired';
      } catch (error) {
        if (error instanceof NotLeaderError) throw error;
        if (error instanceof NoNodeError && error.opIndex === 0) return 'gone';
        if (error instanceof NoNodeError && error.opIndex === 1) {
          ops.pop(); // no idempotency node (never written, or removed by hand): the task alone
          continue;
        }
        if (error instanceof BadVersionError) return 'retry'; // changed meanwhile: read it again
        return 'retry'; // connection trouble: outcome unknown, the next look settles it
      }
    }
  }

  private async removeBarriers(record: TaskRecord): Promise<void> {
    if (record.parallelism <= 1) return;
    for (const path of barrierPaths(record.id, record.attempt)) {
      await removeBarrier(this.options.client, path).catch(() => false);
    }
  }
}
