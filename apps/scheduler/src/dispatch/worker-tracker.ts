import { GroupView, NoNodeError, WatchedRead, type Watcher } from '@app/zk';
import { ZkLayout, type WorkerInfo } from '@app/contracts';
import type { LeaderContext } from '../leadership/leader-context';
import type { PoolWorker, WorkerPool } from './worker-pool';

export interface WorkerTrackerEvents {
  joined(worker: PoolWorker): void;
  /** Its member data changed (draining, capacity, labels). */
  updated(worker: PoolWorker): void;
  left(worker: PoolWorker): void;
  /** Assignments the leader had confirmed and that are no longer there. */
  assignmentsGone(worker: PoolWorker, taskIds: string[]): void;
  /** Assignment nodes nobody told the leader about (first look after an election). */
  strayAssignments(worker: PoolWorker, taskIds: string[]): void;
}

/**
 * Listings of one worker's assignments start at least this far apart. One
 * task's assignment changes the children four times within a few ms (the
 * leader's create and its own look after the reply, the worker's deletes of
 * the note and of the assignment): one listing then covers two. A finished
 * task's slot is freed by its queue note as well, so nothing waits for this.
 */
const LIST_SPACING_MS = 10;

interface Watched {
  reader: WatchedRead;
  firstLook: boolean;
}

/**
 * The leader's view of the workers: who is live (member nodes) and which
 * assignments each still holds (children of `/assign/<worker>`). A vanished
 * assignment is how the leader learns a task left a worker.
 */
export class WorkerTracker {
  private readonly view: GroupView<WorkerInfo>;
  private readonly watched = new Map<string, Watched>();
  private watching = false;

  constructor(
    private readonly ctx: LeaderContext,
    private readonly pool: WorkerPool,
    private readonly events: WorkerTrackerEvents,
    /** True while the leader's own write about this task is in flight. */
    private readonly inFlight: (taskId: string) => boolean,
  ) {
    this.view = new GroupView<WorkerInfo>(ctx.client, { path: ZkLayout.members('workers') });
  }

  /** Loads the live workers (no assignment watches yet: see `watchAssignments`). */
  async start(): Promise<void> {
    this.view.on('joined', (id, info) => {
      if (!this.ctx.active) return;
      const worker = this.pool.upsert(id, info);
      this.events.joined(worker);
      if (this.watching) this.watch(worker.id);
    });
    this.view.on('updated', (id, info) => {
      if (this.ctx.active) this.events.updated(this.pool.upsert(id, info));
    });
    this.view.on('left', (id) => {
      if (!this.ctx.active) return;
      void this.watched.get(id)?.reader.close();
      this.watched.delete(id);
      const worker = this.pool.remove(id);
      if (worker) this.events.left(worker);
    });
    await this.view.start();
    for (const [id, info] of this.view.members()) this.pool.upsert(id, info);
  }

  /** Starts watching every live worker's assignments (after the tasks are loaded). */
  watchAssignments(): void {
    this.watching = true;
    for (const worker of this.pool.all()) this.watch(worker.id);
  }

  async close(): Promise<void> {
    const readers = [...this.watched.values()].map((entry) => entry.reader.close());
    this.watched.clear();
    await Promise.all([...readers, this.view.close()]);
  }

  /**
   * Looks again after one of our own assignment writes landed. The children
   * watch fires on our own create, before the write's reply: a listing made
   * then skips the ids still in flight, and if the worker deleted them before
   * that listing ran, no later notification would ever say they went.
   */
  recheck(workerId: string): void {
    this.watched.get(workerId)?.reader.trigger();
  }

  private watch(workerId: string): void {
    if (this.watched.has(workerId)) return;
    const entry: Watched = {
      firstLook: true,
      reader: new WatchedRead(this.ctx.client, (watcher) => this.look(workerId, entry, watcher), {
        minIntervalMs: LIST_SPACING_MS,
        retryDelayMs: 500,
        onError: (error) =>
          this.ctx.logger.warn('could not read assignments', { workerId, error: String(error) }),
      }),
    };
    this.watched.set(workerId, entry);
    void entry.reader.start();
  }

  private async look(workerId: string, entry: Watched, watcher: Watcher): Promise<void> {
    const worker = this.pool.get(workerId);
    if (!worker || !this.ctx.active) return;
    // Only assignments confirmed before the read can be missing from its answer.
    const confirmed = [...worker.assigned].filter((id) => !this.inFlight(id));
    let present: Set<string>;
    try {
      const { children } = await this.ctx.client.children(ZkLayout.assignments(workerId), watcher);
      // The worker's notes (AssignmentNote) sit beside its assignments: they are the worker's to delete.
      present = new Set(children.filter((name) => !ZkLayout.isAssignmentNote(name)));
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      await this.ctx.client.mkdirp(ZkLayout.assignments(workerId));
      entry.reader.trigger();
      return;
    }
    if (!this.ctx.active) return;
    const gone = confirmed.filter((id) => !present.has(id));
    if (gone.length > 0) this.events.assignmentsGone(worker, gone);
    if (entry.firstLook) {
      entry.firstLook = false;
      const stray = [...present].filter((id) => !worker.assigned.has(id) && !this.inFlight(id));
      if (stray.length > 0) this.events.strayAssignments(worker, stray);
    }
  }
}
