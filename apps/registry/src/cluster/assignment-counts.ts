import { NoNodeError, WatchedRead, type ZkClient } from '@app/zk';
import { ZkLayout } from '@app/contracts';

/** Under heavy churn a worker's count is re-read at most this often. */
const MIN_INTERVAL_MS = 200;

/**
 * How many assignments each tracked worker holds: the children of
 * `/assign/<worker>`, kept by a children watch per worker (re-read at most
 * every MIN_INTERVAL_MS, so a busy cluster costs a bounded number of reads).
 */
export class AssignmentCounts {
  private readonly counts = new Map<string, number>();
  private readonly readers = new Map<string, WatchedRead>();

  constructor(private readonly client: ZkClient) {}

  count(workerId: string): number {
    return this.counts.get(workerId) ?? 0;
  }

  track(workerId: string): void {
    if (this.readers.has(workerId)) return;
    const path = ZkLayout.assignments(workerId);
    const reader: WatchedRead = new WatchedRead(
      this.client,
      async (watcher) => {
        try {
          const { children } = await this.client.children(path, watcher);
          const held = children.filter((name) => !ZkLayout.isAssignmentNote(name)).length;
          if (this.readers.get(workerId) === reader) this.counts.set(workerId, held);
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
          this.counts.set(workerId, 0);
          if (await this.client.exists(path, watcher)) reader.trigger();
        }
      },
      { minIntervalMs: MIN_INTERVAL_MS },
    );
    this.readers.set(workerId, reader);
    void reader.start();
  }

  untrack(workerId: string): void {
    void this.readers.get(workerId)?.close();
    this.readers.delete(workerId);
    this.counts.delete(workerId);
  }

  close(): void {
    for (const id of [...this.readers.keys()]) this.untrack(id);
  }
}
