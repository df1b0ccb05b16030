import type { StructuredLogger } from '../client/logger';
import type { ZkClient } from '../client/zk-client';
import { onConnectionStates } from '../client/connection-states';
import { NoNodeError, isConnectionProblem } from '../client/errors';
import { joinPath } from '../client/paths';
import { TypedEmitter } from '../client/typed-emitter';
import type { Watcher, ZkStat } from '../client/types';
import { BackoffTimer } from './backoff-timer';
import { validateGroupPath } from './group-names';
import { WatchSlots } from './watch-slots';
import { parseMember } from './member-data';
import { Lifecycle } from './lifecycle';

/**
 * A cached, watched view of a group: every child of `path` whose data is a JSON
 * object, as `Map<id, data>`. Read-only: it never writes (see `GroupMembership`
 * to register as a member too).
 *
 * Guarantees
 * - Converges: after any sequence of changes, once the connection is steady the
 *   view equals the group in ZooKeeper (a children watch on the group, a data
 *   watch on each member, and a full re-read after every reconnect and every new
 *   session, diffed against the cache).
 * - Each change is reported once: `joined`, `left`, `updated` are derived from that
 *   diff, so a change seen by a watch and again by a re-read is not repeated. A
 *   member that was deleted and re-created between two reads (a new incarnation:
 *   other `czxid`) is reported as `left` then `joined`, never silently as one.
 * - Listeners run after the cache is updated: `members()` inside a listener
 *   already shows the change; `changed` follows each applied batch.
 * - Data is the latest, not every version: updates in quick succession may be
 *   reported as one `updated` (from the last data seen to the newest).
 *
 * Failure modes
 * - While the connection is suspended or the session lost the view is kept (it is
 *   a cache) but `isStale` is true: it may miss joins and leaves until the full
 *   re-read on `reconnected`/`connected`. Changes that cancel out while stale
 *   (a member that joined and left meanwhile) are not reported at all.
 * - A member whose process died is seen as `left` only when ZooKeeper expires its
 *   session: within one session timeout of the death (plus a read round trip).
 * - A member node whose data is not a JSON object is not in the view; the problem
 *   is reported once per version through `error` (a `MalformedMemberError`). If it
 *   was a valid member before, it is reported as `left`.
 * - If the group node does not exist the view is empty; an exists watch brings
 *   the members in once it is created.
 */
export interface GroupViewOptions {
  /** The group znode whose children are the members, e.g. '/members/workers'. */
  path: string;
  logger?: StructuredLogger;
}

export interface GroupViewEvents<T> {
  [event: string]: unknown[];
  /** A member appeared (also for each member found by the first load). */
  joined: [id: string, data: T];
  /** A member disappeared; `lastData` is what the view held for it. */
  left: [id: string, lastData: T];
  /** A member's data changed (same node). */
  updated: [id: string, data: T, previousData: T];
  /** After each applied batch of joined/left/updated. */
  changed: [];
  /** A background problem: malformed member data, or a read that keeps failing. */
  error: [Error];
}

/** A member node whose data is not a JSON object; it is left out of the view. */
export class MalformedMemberError extends Error {
  constructor(
    readonly id: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `group member ${id} at ${path} has malformed data (not a JSON object): ${describeError(cause)}`,
      { cause },
    );
    this.name = 'MalformedMemberError';
  }
}

interface Entry<T> {
  data: T;
  raw: string;
  /** Identifies the node's incarnation: a re-created node has another czxid. */
  czxid: bigint;
}

type Change<T> =
  | { kind: 'joined'; id: string; data: T }
  | { kind: 'left'; id: string; data: T }
  | { kind: 'updated'; id: string; data: T; previous: T };

interface MemberRead {
  data: Buffer;
  stat: ZkStat;
}

export class GroupView<T extends object> extends TypedEmitter<GroupViewEvents<T>> {
  readonly path: string;
  private readonly lifecycle = new Lifecycle('GroupView');
  private readonly cache = new Map<string, Entry<T>>();
  /** Ids whose current node is malformed, with the mzxid already reported. */
  private readonly malformed = new Map<string, bigint>();
  private stale = true;
  /** Bumped on every suspension and loss: a re-read only clears `stale` if none happened meanwhile. */
  private epoch = 0;

  private readonly watches = new WatchSlots();

  // Pending work, drained by one loop at a time.
  private needFull = false;
  private needChildren = false;
  private readonly needMembers = new Set<string>();
  private loop: Promise<void> | undefined;
  private readonly retry = new BackoffTimer();
  private firstLoad: { resolve(): void; reject(error: Error): void } | undefined;

  private unsubscribe: (() => void) | undefined;
  private readonly onSuspended = (): void => this.markStale();
  private readonly onLost = (): void => {
    this.markStale();
    // The session's watches are gone with it.
    this.watches.clear();
  };
  private readonly onConnected = (): void => {
    this.needFull = true;
    this.kick();
  };

  constructor(
    private readonly client: ZkClient,
    private readonly options: GroupViewOptions,
  ) {
    super();
    this.path = validateGroupPath(options.path);
  }

  /** True until the first load, and while a suspension or session loss has not been re-read. */
  get isStale(): boolean {
    return this.stale;
  }

  /** A snapshot of the group; later changes do not alter it. The data objects are deep-frozen. */
  members(): ReadonlyMap<string, T> {
    return new Map([...this.cache].map(([id, entry]) => [id, entry.data]));
  }

  /** Resolves once the group has been read (and watched) for the first time. */
  async start(): Promise<void> {
    this.lifecycle.start();
    this.unsubscribe = onConnectionStates(this.client, {
      suspended: this.onSuspended,
      lost: this.onLost,
      reconnected: this.onConnected,
      connected: this.onConnected,
    });
    const loaded = new Promise<void>((resolve, reject) => {
      this.firstLoad = { resolve, reject };
    });
    this.needFull = true;
    this.kick();
    try {
      await loaded;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Stops watching; the cache stays readable but is no longer updated. */
  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    this.unsubscribe?.();
    this.retry.cancel();
    this.stale = true;
    this.firstLoad?.reject(new Error(`GroupView ${this.path} closed before its first load`));
    this.firstLoad = undefined;
    await this.loop;
    this.removeAllListeners();
  }

  // ---- the refresh loop ----------------------------------------------------------

  private markStale(): void {
    this.stale = true;
    this.epoch += 1;
  }

  private kick(): void {
    if (!this.lifecycle.isStarted || this.loop !== undefined || this.retry.isWaiting) {
      return;
    }
    this.loop = this.drain().finally(() => {
      this.loop = undefined;
    });
  }

  private hasWork(): boolean {
    return this.needFull || this.needChildren || this.needMembers.size > 0;
  }

  private async drain(): Promise<void> {
    while (this.lifecycle.isStarted && this.hasWork() && this.client.isConnected) {
      const full = this.needFull;
      const children = full || this.needChildren;
      const members = children ? [] : [...this.needMembers];
      const epoch = this.epoch;
      this.needFull = false;
      this.needChildren = false;
      // A group read re-reads new members only; members' own watches cover the rest.
      if (full || !children) this.needMembers.clear();
      try {
        const changes = children ? await this.readGroup(full) : await this.readMembers(members);
        if (!this.lifecycle.isStarted) return;
        this.retry.reset();
        if (full && epoch === this.epoch && this.client.isConnected) this.stale = false;
        this.publish(changes);
        if (full && this.firstLoad) {
          this.firstLoad.resolve();
          this.firstLoad = undefined;
        }
      } catch (error) {
        if (!this.lifecycle.isStarted) return;
        this.needFull ||= full;
        this.needChildren ||= children;
        for (const id of members) this.needMembers.add(id);
        this.onReadFailed(error);
        return;
      }
    }
  }

  private onReadFailed(error: unknown): void {
    if (isConnectionProblem(error)) {
      // A new connection triggers a full re-read; retry here only if it is already up.
      if (this.client.isConnected) this.retryLater();
      return;
    }
    const failure = error instanceof Error ? error : new Error(String(error));
    if (this.firstLoad) {
      this.firstLoad.reject(failure);
      this.firstLoad = undefined;
      return;
    }
    this.log('warn', 'group view read failed; retrying', { error: failure.message });
    this.emit('error', failure);
    this.retryLater();
  }

  private retryLater(): void {
    this.retry.schedule(() => this.kick());
  }

  /** Lists the group (re-arming its watch) and reads new members, or every member when `full`. */
  private async readGroup(full: boolean): Promise<Change<T>[]> {
    let names: string[];
    try {
      names = await this.watched(
        'children',
        () => (this.needChildren = true),
        async (watcher) => {
          return (await this.client.children(this.path, watcher)).children;
        },
      );
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      names = [];
      // No group node: wait for it to appear.
      const stat = await this.watched(
        'exists',
        () => (this.needChildren = true),
        (watcher) => this.client.exists(this.path, watcher),
      );
      if (stat) this.needChildren = true;
    }
    const present = new Set(names);
    const changes: Change<T>[] = [];
    for (const [id, entry] of this.cache) {
      if (!present.has(id)) this.remove(id, entry, changes);
    }
    for (const id of this.malformed.keys()) {
      if (!present.has(id)) this.malformed.delete(id);
    }
    const toRead = full
      ? names
      : names.filter((id) => !this.cache.has(id) && !this.malformed.has(id));
    const reads = await Promise.all(toRead.map((id) => this.readMember(id)));
    toRead.forEach((id, i) => this.apply(id, reads[i], changes));
    return changes;
  }

  /** Re-reads members whose data watch fired; joins are the group read's business. */
  private async readMembers(ids: readonly string[]): Promise<Change<T>[]> {
    const known = ids.filter((id) => this.cache.has(id) || this.malformed.has(id));
    const reads = await Promise.all(known.map((id) => this.readMember(id)));
    const changes: Change<T>[] = [];
    known.forEach((id, i) => this.apply(id, reads[i], changes));
    return changes;
  }

  private async readMember(id: string): Promise<MemberRead | undefined> {
    try {
      return await this.watched(
        `member:${id}`,
        () => this.needMembers.add(id),
        (watcher) => this.client.get(joinPath(this.path, id), watcher),
      );
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  /** Folds one member read into the cache, recording what changed. */
  private apply(id: string, read: MemberRead | undefined, changes: Change<T>[]): void {
    const previous = this.cache.get(id);
    if (read === undefined) {
      this.malformed.delete(id);
      if (previous) this.remove(id, previous, changes);
      return;
    }
    const raw = read.data.toString('utf8');
    if (previous && previous.czxid === read.stat.czxid && previous.raw === raw) return;
    let data: T;
    try {
      data = parseMember<T>(raw);
    } catch (cause) {
      if (this.malformed.get(id) !== read.stat.mzxid) {
        this.malformed.set(id, read.stat.mzxid);
        const error = new MalformedMemberError(id, joinPath(this.path, id), cause);
        this.log('warn', error.message);
        this.emit('error', error);
      }
      if (previous) this.remove(id, previous, changes);
      return;
    }
    this.malformed.delete(id);
    const entry: Entry<T> = { data, raw, czxid: read.stat.czxid };
    this.cache.set(id, entry);
    if (previous === undefined) {
      changes.push({ kind: 'joined', id, data });
    } else if (previous.czxid !== read.stat.czxid) {
      changes.push({ kind: 'left', id, data: previous.data }, { kind: 'joined', id, data });
    } else {
      changes.push({ kind: 'updated', id, data, previous: previous.data });
    }
  }

  private remove(id: string, entry: Entry<T>, changes: Change<T>[]): void {
    this.cache.delete(id);
    changes.push({ kind: 'left', id, data: entry.data });
  }

  private publish(changes: readonly Change<T>[]): void {
    if (changes.length === 0) return;
    for (const change of changes) {
      if (change.kind === 'joined') this.emit('joined', change.id, change.data);
      else if (change.kind === 'left') this.emit('left', change.id, change.data);
      else this.emit('updated', change.id, change.data, change.previous);
    }
    this.emit('changed');
  }

  /**
   * Runs a read with a watcher from `slot`, unless that slot's watch is still armed
   * (ZooKeeper keeps it across reconnects). When the watch fires, `schedule` records
   * the work and the loop runs.
   */
  private watched<R>(
    slot: string,
    schedule: () => void,
    read: (watcher: Watcher | undefined) => Promise<R>,
  ): Promise<R> {
    return this.watches.run(slot, read, () => {
      if (!this.lifecycle.isStarted) return;
      schedule();
      this.kick();
    });
  }

  private log(level: 'log' | 'warn', message: string, context?: Record<string, unknown>): void {
    this.options.logger?.[level](message, { path: this.path, ...context });
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
