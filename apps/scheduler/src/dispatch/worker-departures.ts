import { Op } from '@app/zk';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import type { LeaderContext } from '../leadership/leader-context';
import type { PoolWorker, WorkerPool } from './worker-pool';

/**
 * The leader's bookkeeping of workers coming and going, apart from the task
 * state machine in the Dispatcher: the history events (joined, left, gone
 * before this term saw it, each once), removing the assignment directory of a
 * dead worker and the stray assignment nodes no task accounts for. Moving the
 * tasks themselves stays in the Dispatcher.
 */
export class WorkerDepartures {
  /** Workers whose leaving is in the history already (until they join again). */
  private readonly reportedGone = new Set<string>();

  constructor(
    private readonly ctx: LeaderContext,
    private readonly pool: WorkerPool,
  ) {}

  joined(worker: PoolWorker): void {
    this.reportedGone.delete(worker.id);
    this.recordInHistory(
      this.ctx.event('worker.joined', { workerId: worker.id, detail: { ...worker.info } }),
    );
  }

  /** Records the leaving and cleans the worker's directory later; its tasks are the caller's. */
  left(worker: PoolWorker): void {
    this.reportedGone.add(worker.id);
    this.ctx.logger.warn('worker left; moving its tasks', {
      workerId: worker.id,
      tasks: worker.assigned.size,
    });
    this.recordInHistory(
      this.ctx.event('worker.left', {
        workerId: worker.id,
        detail: { tasks: worker.assigned.size },
      }),
    );
    void this.removeAssignDirLater(worker.id);
  }

  /**
   * A worker that holds tasks but is not a member, and whose leaving this
   * leader never saw (it left before this term's view was built): the
   * history still records that it left, once.
   */
  goneUnseen(workerId: string): void {
    if (this.reportedGone.has(workerId)) return;
    this.reportedGone.add(workerId);
    this.ctx.logger.warn('a worker holding tasks is gone; moving its tasks', { workerId });
    this.recordInHistory(
      this.ctx.event('worker.left', { workerId, detail: { noticed: 'on election' } }),
    );
  }

  /**
   * Assignment nodes found after an election that no task record accounts for
   * (`holds(id)` is false): removed, best effort.
   */
  async removeStrays(
    worker: PoolWorker,
    ids: readonly string[],
    holds: (id: string) => boolean,
  ): Promise<void> {
    for (const id of ids) {
      if (holds(id)) continue;
      this.ctx.logger.warn('removing a stray assignment', { workerId: worker.id, taskId: id });
      await this.ctx.writes
        .submit({ ops: [Op.delete(ZkLayout.assignment(worker.id, id))] })
        .catch((error: unknown) =>
          this.ctx.logger.warn('stray assignment stays', { taskId: id, error: String(error) }),
        );
    }
  }

  /** An event that changes no node (history only): lost with the term if it fails, like the term's view. */
  private recordInHistory(event: AuditEvent): void {
    void this.ctx.writes.submit({ ops: [], events: [event] }).catch(() => undefined);
  }

  private async removeAssignDirLater(workerId: string): Promise<void> {
    // Best effort: the directory of a dead worker goes once its tasks have moved,
    // with the notes it never read.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    if (!this.ctx.active || this.pool.get(workerId)) return;
    const dir = ZkLayout.assignments(workerId);
    try {
      const { children } = await this.ctx.client.children(dir);
      if (!children.every(ZkLayout.isAssignmentNote)) return; // not empty yet: it stays
      const notes = children.map((name) => Op.delete(`${dir}/${name}`));
      await this.ctx.writes.submit({ ops: [...notes, Op.delete(dir)] });
    } catch {
      // Gone already, or the worker came back: nothing to clean.
    }
  }
}
