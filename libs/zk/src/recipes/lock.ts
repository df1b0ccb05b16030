import { NoNodeError, SessionExpiredError, ZkCode } from '../client/errors';
import { basename, joinPath } from '../client/paths';
import { TypedEmitter } from '../client/typed-emitter';
import type { NodeData } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { onConnectionStates } from '../client/connection-states';
import { Lifecycle } from './lifecycle';
import {
  Deadline,
  createProtected,
  deleteQuietly,
  sessionBoundController,
  sortedSequential,
} from './sequential-nodes';
import { Wakeup } from './wakeup';

/**
 * Lock: a mutual-exclusion lock shared by processes (Curator's
 * InterProcessMutex). Each contender creates an ephemeral-sequential node under
 * `path`; the lowest one holds the lock.
 *
 * Guarantees
 * - At most one holder at a time, as long as holders react to `lost`: a holder
 *   whose session ends is told (`lost`) and its node is gone, so the next
 *   contender takes over. A holder that is paused (GC, SIGSTOP) past its session
 *   timeout cannot be told in time; use a fencing check of `lockPath` in a
 *   `multi()` when that matters.
 * - No herd: each waiter watches only its predecessor, with getData (a
 *   predecessor already gone leaves no stray watch behind).
 * - No ghost contender: names are protected (a per-attempt unique prefix), so a
 *   create whose reply was lost is found again instead of queued twice; should a
 *   duplicate appear anyway, the lowest is kept and the others deleted.
 * - `acquire(timeoutMs)` that times out, fails or is aborted by a session loss
 *   deletes its node: it never leaves a contender behind.
 *
 * Not reentrant: `acquire()` while held or acquiring throws. One Lock instance
 * is one contender; use one instance per concurrent caller.
 *
 * Failure modes: while `suspended` the holder still holds the lock as far as
 * ZooKeeper knows, but may lose it at any moment (`suspended` is emitted so it
 * can stop early); after `lost` the old node may linger on the servers for up
 * to one session timeout (it is deleted from the new session as soon as one is
 * up), during which nobody holds the lock.
 */
export interface LockOptions {
  /** Parent znode of the contenders, e.g. '/locks/compaction'. */
  path: string;
  /** Stored in the contender node (e.g. who holds it), readable by observers. */
  data?: NodeData;
}

export type LockLostReason = 'session' | 'deleted';

export interface LockEvents {
  [event: string]: unknown[];
  /** The lock is held; the argument is the contender node. */
  acquired: [string];
  released: [string];
  /** Held, and the connection dropped: the lock may be lost soon. */
  suspended: [];
  /** Held, and the connection came back on the same session: still held. */
  reconnected: [];
  /** The lock was held and no longer is: stop the work it protects. */
  lost: [LockLostReason];
}

export class LockTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`Lock ${path}: not acquired within ${timeoutMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

type LockState = 'idle' | 'acquiring' | 'held' | 'lost';

const CONTENDER_NAME = 'lock-';

export class Lock extends TypedEmitter<LockEvents> {
  private readonly lifecycle = new Lifecycle('Lock');
  private state: LockState = 'idle';
  private ownPath: string | undefined;
  private operation: AbortController | undefined;
  /** Nodes of an ended session, deleted once a new session is up. */
  private readonly staleNodes = new Set<string>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly options: LockOptions,
  ) {
    super();
  }

  get isHeld(): boolean {
    return this.state === 'held';
  }

  /** The contender node while held (usable as a fencing check in a multi). */
  get lockPath(): string | undefined {
    return this.state === 'held' ? this.ownPath : undefined;
  }

  async start(): Promise<void> {
    this.lifecycle.start();
    this.unsubscribe = onConnectionStates(this.client, {
      suspended: () => {
        if (this.state === 'held') this.emit('suspended');
      },
      reconnected: () => {
        if (this.state === 'held') this.emit('reconnected');
        this.deleteStaleNodes();
      },
      lost: () => {
        if (this.state !== 'held') return;
        this.state = 'lost';
        if (this.ownPath) this.staleNodes.add(this.ownPath);
        this.emit('lost', 'session');
      },
      connected: () => this.deleteStaleNodes(),
    });
    await this.client.mkdirp(this.options.path);
  }

  /**
   * Waits until this contender holds the lock. Rejects with `LockTimeoutError`
   * after `timeoutMs` (none: wait for ever), with `SessionExpiredError` if the
   * session ends while waiting, and throws if already held or acquiring.
   */
  async acquire(timeoutMs?: number): Promise<void> {
    if (!this.lifecycle.isStarted)
      throw new Error(`Lock.acquire() called when ${this.lifecycle.state}`);
    if (this.state === 'acquiring' || this.state === 'held') {
      throw new Error(`Lock ${this.options.path} is not reentrant: already ${this.state}`);
    }
    if (this.state === 'lost') this.state = 'idle';
    this.state = 'acquiring';
    const deadline = new Deadline(timeoutMs);
    const guard = sessionBoundController(this.client, `acquiring lock ${this.options.path}`);
    this.operation = guard.controller;
    let own: string | undefined;
    try {
      const created = await createProtected(
        this.client,
        this.options.path,
        CONTENDER_NAME,
        this.options.data,
        'ephemeral_sequential',
      );
      own = created.path;
      this.ownPath = own;
      for (;;) {
        guard.controller.signal.throwIfAborted();
        const { children } = await this.client.children(this.options.path);
        const contenders = sortedSequential(children, CONTENDER_NAME);
        own = await this.dropDuplicates(contenders, created.prefix, own);
        this.ownPath = own;
        const index = contenders.indexOf(basename(own));
        if (index < 0)
          throw new NoNodeError('lock contender vanished while waiting', ZkCode.NO_NODE, own);
        if (index === 0) {
          await this.take(own);
          return;
        }
        const woken = new Wakeup();
        try {
          await this.client.get(joinPath(this.options.path, contenders[index - 1]), woken.signal);
        } catch (error) {
          if (error instanceof NoNodeError) continue;
          throw error;
        }
        if ((await woken.wait(deadline.waitMs, guard.controller.signal)) === 'timeout') {
          throw new LockTimeoutError(this.options.path, timeoutMs ?? 0);
        }
      }
    } catch (error) {
      this.state = 'idle';
      this.ownPath = undefined;
      if (own !== undefined) await this.deleteOrRemember(own);
      throw error;
    } finally {
      guard.dispose();
      this.operation = undefined;
    }
  }

  /**
   * Releases the lock (deletes the contender node). After `lost` it only
   * resets, so `release()` in a `finally` is always safe; otherwise it throws
   * if the lock is not held.
   */
  async release(): Promise<void> {
    const own = this.ownPath;
    if (this.state === 'lost') {
      this.state = 'idle';
      this.ownPath = undefined;
      this.deleteStaleNodes();
      return;
    }
    if (this.state !== 'held' || own === undefined) {
      throw new Error(`Lock.release(): lock ${this.options.path} is not held (${this.state})`);
    }
    this.state = 'idle';
    this.ownPath = undefined;
    try {
      await deleteQuietly(this.client, own);
    } catch (error) {
      // Still there (connection trouble): others wait until it goes, so keep trying.
      this.staleNodes.add(own);
      throw error;
    }
    this.emit('released', own);
  }

  /** Aborts a pending acquire, releases a held lock, and stops listening. */
  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    this.operation?.abort(new Error(`Lock ${this.options.path} closed`));
    this.unsubscribe?.();
    if (this.state === 'held' || this.state === 'lost') await this.release().catch(() => undefined);
  }

  // ---- internals --------------------------------------------------------------------

  /** Lowest contender: hold the lock if the node is our current session's. */
  private async take(own: string): Promise<void> {
    const { stat } = await this.client.get(own, (event) => {
      if (event.type !== 'deleted' || this.state !== 'held' || this.ownPath !== own) return;
      // Deleted by someone else while our session lives: we no longer hold it.
      this.state = 'lost';
      this.emit('lost', 'deleted');
    });
    const session = this.client.sessionInfo?.sessionId;
    if (stat.ephemeralOwner !== session) {
      throw new SessionExpiredError(
        `lock contender ${own} belongs to an ended session`,
        ZkCode.SESSION_EXPIRED,
        own,
      );
    }
    this.state = 'held';
    this.emit('acquired', own);
  }

  /** Keeps the lowest node of our protected prefix; deletes duplicates of a retried create. */
  private async dropDuplicates(contenders: string[], prefix: string, own: string): Promise<string> {
    const mine = contenders.filter((name) => name.startsWith(prefix));
    if (mine.length <= 1) return own;
    for (const extra of mine.slice(1)) {
      await deleteQuietly(this.client, joinPath(this.options.path, extra));
      contenders.splice(contenders.indexOf(extra), 1);
    }
    return joinPath(this.options.path, mine[0]);
  }

  private async deleteOrRemember(path: string): Promise<void> {
    try {
      await deleteQuietly(this.client, path);
    } catch {
      this.staleNodes.add(path);
    }
  }

  private deleteStaleNodes(): void {
    if (!this.client.isConnected) return;
    for (const path of [...this.staleNodes]) {
      if (path === this.ownPath && this.state !== 'lost' && this.state !== 'idle') continue;
      deleteQuietly(this.client, path).then(
        () => this.staleNodes.delete(path),
        () => undefined, // kept for the next session event
      );
    }
  }
}
