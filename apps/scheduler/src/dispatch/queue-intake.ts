import { posix } from 'node:path';
import {
  NoNodeError,
  Op,
  PersistentListing,
  sortBySequence,
  type WatchEvent,
  type Watcher,
} from '@app/zk';
import { ZkLayout, type QueueNote } from '@app/contracts';
import { decodeJson } from '@app/store';
import type { LeaderContext } from '../leadership/leader-context';

/**
 * The leader's intake of `/queue`: every entry (a QueueNote) carries tasks to
 * look at (new ones, handed back, finished, cancelled), most with their
 * records; each entry is read, handed to `look`, then deleted (fenced). An
 * entry is taken once per term; one already gone was taken by an earlier term.
 *
 * A persistent watch (ZooKeeper 3.6+) names each new entry, which is read at
 * once; the queue is listed only at the start and after connection trouble
 * (`reset`). A children watch instead cost two listings per entry, one for
 * its creation and one for the leader's own delete: with one task at a time
 * a third of the leader's ZooKeeper requests, which cost the server far more
 * than the watch's notifications. Older servers keep the children watch.
 */
export class QueueIntake {
  private readonly taken = new Set<string>();
  private readonly queue: PersistentListing;

  constructor(
    private readonly ctx: LeaderContext,
    private readonly look: (note: QueueNote) => Promise<void>,
  ) {
    this.queue = new PersistentListing(
      ctx.client,
      ZkLayout.queue,
      (watcher) => this.read(watcher),
      {
        retryDelayMs: 500,
        onError: (error, during) =>
          ctx.logger.warn(
            `could not ${during === 'listing' ? 'read' : 'watch'} the queue; retrying`,
            {
              error: String(error),
            },
          ),
      },
    );
    this.queue.on('change', this.onChange);
  }

  /** Resolves once the queue has been read (and watched) a first time. */
  async start(): Promise<void> {
    await this.queue.start();
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  private readonly onChange = (event: WatchEvent): void => {
    if (event.type !== 'created' || posix.dirname(event.path) !== ZkLayout.queue) return;
    const name = posix.basename(event.path);
    if (!this.ctx.active || this.taken.has(name)) return;
    // A failed take is left to a listing, which retries it with its delay.
    this.take(name).catch(() => this.queue.trigger());
  };

  private async read(watcher: Watcher | undefined): Promise<void> {
    if (!this.ctx.active) return;
    const { children } = await this.ctx.client.children(ZkLayout.queue, watcher);
    const fresh = sortBySequence(children).filter((name) => !this.taken.has(name));
    await Promise.all(fresh.map((name) => this.take(name)));
  }

  private async take(name: string): Promise<void> {
    this.taken.add(name);
    const path = ZkLayout.queueEntry(name);
    try {
      const { data } = await this.ctx.client.get(path);
      await this.look(decodeJson<QueueNote>(data));
      await this.ctx.writes.submit({ ops: [Op.delete(path)] });
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error; // else taken by an earlier term already
    } finally {
      // Deleted (or left for the next listing to take again): a listing answered after
      // the delete cannot show it, and a sequential name is never made twice. Kept, the
      // names would grow by one per entry for the whole term.
      this.taken.delete(name);
    }
  }
}
