import { NoNodeError } from '../client/errors';
import { joinPath, sequenceOf } from '../client/paths';
import { TypedEmitter } from '../client/typed-emitter';
import { Op, type Watcher, type ZkOp } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { Lifecycle } from './lifecycle';
import { WatchedRead } from './watched-read';

/**
 * A change log under one parent znode, for keeping a view of many nodes with
 * one watch instead of one per node. Writers append a persistent-sequential
 * note (`changeNoteOp`) inside the same `multi()` as the change it describes;
 * a follower reads the notes in sequence order (commit order: sequence numbers
 * under one parent follow the transaction order) with one children watch. The
 * notes' content is the owner's business.
 *
 * Old notes are deleted by one collector (`collect`, through a fenced commit),
 * which records the highest sequence it deleted as the parent's data (the
 * mark), in the same transaction.
 *
 * Guarantees
 * - Every note after the follower's position is delivered once, in order.
 * - A note is never skipped silently: when a note after the position was
 *   collected before the follower read it (the mark passed the position, or the
 *   note is gone when read), the follower emits `reset` and goes on from the
 *   log's current end. `reset` is also the first event: the owner builds its
 *   view from the nodes themselves after a `reset` (reads made after it see
 *   every change before the position) and applies the notes that follow, which
 *   may repeat what those reads saw (notes must be idempotent to apply).
 * - A session that ends loses no note by itself: the follower reads the log
 *   again on the new session, and only collected notes cause a `reset`.
 *
 * Failure modes: a follower away for longer than the collector keeps notes
 * rebuilds (a `reset`). Sequence numbers are ZooKeeper's 32-bit counter of the
 * parent: they wrap after 2^31 creates and deletes under it.
 */
export interface ChangeNote {
  seq: number;
  data: Buffer;
}

export interface ChangeLogFollowerEvents {
  [event: string]: unknown[];
  /** Rebuild from the nodes themselves: the notes that follow come after that point. */
  reset: [];
  /** New notes, in order. */
  notes: [ChangeNote[]];
  /** A read of the log finished: `cversion` of the parent when it was listed. */
  listed: [number];
}

/** The note to put in the transaction of a change: `<parent>/c-<seq>`. */
export function changeNoteOp(parent: string, data: Buffer | string): ZkOp {
  return Op.create(joinPath(parent, NOTE_PREFIX), data, 'persistent_sequential');
}

const NOTE_PREFIX = 'c-';

/**
 * Names listed per millisecond between reads, at most: 1,000 notes kept space
 * reads 50 ms apart, 200 or fewer leave the floor (`minIntervalMs`)...
 */
const NOTES_LISTED_PER_MS = 20;
/** ...and 2,000 or more, MAX_SPACING_MS: how far a view may lag under a burst of writes. */
const MAX_SPACING_MS = 100;

interface Seen {
  seq: number;
  name: string;
  /** When this follower first listed it (notes are collected by age). */
  at: number;
}

export class ChangeLogFollower extends TypedEmitter<ChangeLogFollowerEvents> {
  private readonly lifecycle = new Lifecycle('ChangeLogFollower');
  /** Highest sequence delivered or covered by the last reset; undefined: a reset is due. */
  private position: number | undefined;
  private mark = -1;
  private markVersion = -1;
  private seen: Seen[] = [];
  private listedCversion = -1;
  private readonly log: WatchedRead;

  constructor(
    private readonly client: ZkClient,
    private readonly path: string,
    private readonly now: () => number = Date.now,
    /**
     * Reads of the log at most this often, and less often the more notes it
     * keeps (NOTES_LISTED_PER_MS, up to MAX_SPACING_MS): each read lists every
     * note kept, so under a burst of writes a read takes many new notes at once
     * instead of a few per listing of thousands (at 100 notes/s kept 30 s, a
     * read every 10 ms listed 3,000 names per new note).
     */
    minIntervalMs = 10,
  ) {
    super();
    this.log = new WatchedRead(client, (watcher) => this.round(watcher), {
      retryDelayMs: 200,
      minIntervalMs: () =>
        Math.max(minIntervalMs, Math.min(MAX_SPACING_MS, this.seen.length / NOTES_LISTED_PER_MS)),
    });
  }

  /** False from connection trouble until the log has been read again. */
  get isCurrent(): boolean {
    return !this.log.isStale;
  }

  /** Starts following; resolves once the log has been read (after the first `reset`). */
  async start(): Promise<void> {
    this.lifecycle.start();
    const first = new Promise<void>((resolve) => this.once('listed', () => resolve()));
    void this.log.start();
    await first;
  }

  close(): void {
    if (!this.lifecycle.close()) return;
    void this.log.close();
    this.emit('listed', this.listedCversion); // releases catchUp() waiters
  }

  /**
   * Resolves once every note committed before the call has been delivered (a
   * read of the parent's child version, then the rounds it takes).
   */
  async catchUp(): Promise<void> {
    const stat = await this.client.exists(this.path);
    const target = stat?.cversion ?? -1;
    // The children watch fires before this answer arrives (ZooKeeper's order): a round is due.
    while (this.listedCversion < target && this.lifecycle.isStarted) {
      await new Promise<void>((resolve) => {
        const onListed = (): void => {
          this.off('listed', onListed);
          resolve();
        };
        this.on('listed', onListed);
        this.log.trigger();
      });
    }
  }

  /**
   * Deletes every note this follower first listed more than `olderThanMs` ago,
   * in transactions of at most `perCommit` notes that also move the mark to
   * their highest, with `commit`: the collector's fenced multi. Returns how
   * many were deleted. All of them, not a fixed share per call: a burst of
   * writes must not leave a log that grows faster than it is collected.
   */
  async collect(
    olderThanMs: number,
    commit: (ops: ZkOp[]) => Promise<unknown>,
    perCommit = 1_000,
  ): Promise<number> {
    const cutoff = this.now() - olderThanMs;
    let deleted = 0;
    for (;;) {
      const old: Seen[] = [];
      for (const note of this.seen) {
        if (note.at > cutoff || old.length >= perCommit) break;
        old.push(note);
      }
      if (old.length === 0 || !this.lifecycle.isStarted) return deleted;
      const mark = Math.max(this.mark, old[old.length - 1].seq);
      await commit([
        ...old.map((note) => Op.delete(joinPath(this.path, note.name))),
        Op.set(this.path, JSON.stringify({ collectedThrough: mark })),
      ]);
      this.seen = this.seen.filter((note) => note.seq > mark);
      deleted += old.length;
    }
  }

  /** One read of the log (WatchedRead runs it again on a watch, a reconnect, a failure). */
  private async round(watcher: Watcher): Promise<void> {
    let listed: number | undefined;
    // Undefined: the log moved under this read (collected meanwhile): list again.
    while ((listed = await this.read(watcher)) === undefined) {
      if (!this.lifecycle.isStarted) return;
    }
    this.listedCversion = listed;
    this.emit('listed', listed);
  }

  /** One round; returns the parent's cversion as listed, or undefined to list again. */
  private async read(watcher: Watcher): Promise<number | undefined> {
    const { children, stat } = await this.client.children(this.path, watcher);
    if (stat.version !== this.markVersion) {
      const parent = await this.client.get(this.path);
      if (parent.stat.version !== stat.version) return undefined; // collected meanwhile
      this.mark = parseMark(parent.data);
      this.markVersion = parent.stat.version;
    }
    this.remember(children);
    const last = this.seen.length > 0 ? this.seen[this.seen.length - 1].seq : -1;
    if (this.position === undefined || this.mark > this.position) {
      this.position = Math.max(last, this.mark);
      this.emit('reset');
      return stat.cversion;
    }
    const position = this.position;
    const fresh = this.seenAfter(position);
    if (fresh.length === 0) return stat.cversion;
    let delivered: ChangeNote[];
    try {
      delivered = await Promise.all(
        fresh.map(async ({ name, seq }) => ({
          seq,
          data: (await this.client.get(joinPath(this.path, name))).data,
        })),
      );
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      this.position = undefined; // collected before we read it: rebuild
      return undefined;
    }
    if (this.position !== position || !this.lifecycle.isStarted) return undefined;
    this.position = last;
    this.emit('notes', delivered);
    return stat.cversion;
  }

  /**
   * Keeps the notes present, in sequence order, with the time each was first
   * listed (the collector's ages). One pass over the listing and work for the
   * notes that came or went only: the log may hold thousands of notes while
   * each read brings a few.
   */
  private remember(children: readonly string[]): void {
    const highest = this.seen.length > 0 ? this.seen[this.seen.length - 1].seq : -1;
    const at = this.now();
    let lowest = Infinity;
    const added: Seen[] = [];
    for (const name of children) {
      if (!name.startsWith(NOTE_PREFIX)) continue;
      const seq = sequenceOf(name);
      if (seq < lowest) lowest = seq;
      if (seq > highest) added.push({ name, seq, at });
    }
    added.sort((a, b) => a.seq - b.seq);
    let collected = 0; // notes are collected oldest first
    while (collected < this.seen.length && this.seen[collected].seq < lowest) collected++;
    if (collected > 0) this.seen = this.seen.slice(collected);
    for (const note of added) this.seen.push(note);
  }

  /** The notes kept with a sequence above `position`, in order. */
  private seenAfter(position: number): Seen[] {
    let first = this.seen.length;
    while (first > 0 && this.seen[first - 1].seq > position) first--;
    return this.seen.slice(first);
  }
}

function parseMark(data: Buffer): number {
  if (data.length === 0) return -1;
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { collectedThrough?: unknown };
    return typeof parsed.collectedThrough === 'number' ? parsed.collectedThrough : -1;
  } catch {
    return -1;
  }
}
