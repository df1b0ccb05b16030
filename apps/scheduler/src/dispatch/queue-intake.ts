import { NoNodeError, Op, WatchedRead, sortBySequence, type Watcher } from '@app/zk';
import { ZkLayout, type QueueNote } from '@app/contracts';
import { decodeJson } from '@app/store';
import type { LeaderContext } from '../leadership/leader-context';

/**
 * The leader's intake of `/queue`: every entry (a QueueNote) carries tasks to
 * look at (new ones, handed back, finished, cancelled), most with their
 * records; each entry is read, handed to `look`, then deleted (fenced). An
 * entry is taken once per term; one already gone was taken by an earlier term.
 */
export class QueueIntake {
  private readonly taken = new Set<string>();
  private readonly reader: WatchedRead;

  constructor(
    private readonly ctx: LeaderContext,
    private readonly look: (note: QueueNote) => Promise<void>,
  ) {
    this.reader = new WatchedRead(ctx.client, (watcher) => this.read(watcher), {
      retryDelayMs: 500,
      onError: (error) =>
        ctx.logger.warn('could not read the queue; retrying', { error: String(error) }),
    });
  }

  /** Resolves once the queue has been read (and watched) a first time. */
  start(): Promise<void> {
    return this.reader.start();
  }

  close(): Promise<void> {
    return this.reader.close();
  }

  private async read(watcher: Watcher): Promise<void> {
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
      if (error instanceof NoNodeError) return; // taken by an earlier term already
      this.taken.delete(name);
      throw error;
    }
  }
}
