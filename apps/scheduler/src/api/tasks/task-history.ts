import { Inject, Injectable } from '@nestjs/common';
import { isTerminal, type TaskRecord, type TaskState } from '@app/contracts';
import { AUDIT_STORE, type AuditStore } from '@app/audit';

export interface RetiredPage {
  records: TaskRecord[];
  /** The last task id looked at, when more may follow (the next page starts after it). */
  next?: string;
}

/** History rows read per request at most (a page may come back short, with a cursor). */
const MAX_ROWS_PER_REQUEST = 5_000;

/**
 * Tasks that have left ZooKeeper (retention, invariant 6), from `task_history`:
 * a retired task's row holds the record as it was when it left, which is what
 * `GET /v1/tasks/:id` answered before. Rows of tasks still in ZooKeeper (the
 * history is kept as their events arrive) have no record yet and are skipped.
 * Reads only: the registry's drain writes the history.
 */
@Injectable()
export class TaskHistoryReader {
  constructor(@Inject(AUDIT_STORE) private readonly store: AuditStore) {}

  /** The final record of a retired task; undefined when the history has none. */
  async retired(id: string): Promise<TaskRecord | undefined> {
    return (await this.store.taskHistory(id))?.record;
  }

  /** Retired tasks submitted with one of `keys`, by key. */
  retiredByKeys(keys: readonly string[]): Promise<Map<string, TaskRecord>> {
    return this.store.retiredByIdempotencyKeys(keys);
  }

  /** Can a retired task be in `state`? Only finished tasks leave ZooKeeper. */
  canHold(state: TaskState | undefined): boolean {
    return state === undefined || isTerminal(state);
  }

  /** Retired tasks by id after `after`, up to `limit`. */
  async list(filter: {
    jobId?: string;
    state?: TaskState;
    after?: string;
    limit: number;
  }): Promise<RetiredPage> {
    const records: TaskRecord[] = [];
    let after = filter.after;
    let examined = 0;
    while (records.length < filter.limit && examined < MAX_ROWS_PER_REQUEST) {
      const { tasks, next } = await this.store.listTaskHistory({
        jobId: filter.jobId,
        state: filter.state,
        after,
        limit: 1_000,
      });
      examined += tasks.length;
      for (let i = 0; i < tasks.length; i++) {
        const record = tasks[i].record;
        after = tasks[i].taskId;
        if (record === undefined) continue;
        records.push(record);
        if (records.length === filter.limit) {
          const more = next !== undefined || tasks.slice(i + 1).some((t) => t.record !== undefined);
          return more ? { records, next: after } : { records };
        }
      }
      if (next === undefined) return { records };
    }
    return { records, next: after };
  }
}
