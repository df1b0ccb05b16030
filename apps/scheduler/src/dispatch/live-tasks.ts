import type { TaskRecord, TaskState } from '@app/contracts';
import type { VersionedTask } from '@app/store';

/** A task the leader is responsible for, with the znode version it last saw. */
export type LiveTask = VersionedTask;

/** The leader's unfinished tasks in memory, by id and by job (rebuilt from `/tasks` each term). */
export class LiveTasks {
  private readonly byId = new Map<string, LiveTask>();
  private readonly byJob = new Map<string, Set<string>>();

  get(id: string): LiveTask | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Records what was read or written last; the same object stays in place. */
  track(record: TaskRecord, version: number): LiveTask {
    let live = this.byId.get(record.id);
    if (live) {
      live.record = record;
      live.version = version;
      return live;
    }
    live = { record, version };
    this.byId.set(record.id, live);
    if (record.jobId !== undefined) {
      let ids = this.byJob.get(record.jobId);
      if (!ids) this.byJob.set(record.jobId, (ids = new Set()));
      ids.add(record.id);
    }
    return live;
  }

  forget(id: string): void {
    const live = this.byId.get(id);
    this.byId.delete(id);
    const jobId = live?.record.jobId;
    if (jobId === undefined) return;
    const ids = this.byJob.get(jobId);
    ids?.delete(id);
    if (ids?.size === 0) this.byJob.delete(jobId);
  }

  ofJob(jobId: string): LiveTask[] {
    const ids = this.byJob.get(jobId);
    if (!ids) return [];
    return [...ids].map((id) => this.byId.get(id)).filter((t): t is LiveTask => t !== undefined);
  }

  countByState(): Map<TaskState, number> {
    const counts = new Map<TaskState, number>();
    for (const { record } of this.byId.values()) {
      counts.set(record.state, (counts.get(record.state) ?? 0) + 1);
    }
    return counts;
  }
}
