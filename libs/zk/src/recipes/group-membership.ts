import type { ZkClient } from '../client/zk-client';
import { onConnectionStates } from '../client/connection-states';
import { NoNodeError, NodeExistsError, isConnectionProblem } from '../client/errors';
import { joinPath } from '../client/paths';
import { TypedEmitter } from '../client/typed-emitter';
import type { WatchEvent } from '../client/types';
import { GroupView } from './group-view';
import { validateGroupPath, validateNodeName } from './group-names';
import { WatchSlots } from './watch-slots';
import { encodeMember } from './member-data';
import {
  DuplicateMemberError,
  type GroupMembershipEvents,
  type GroupMembershipOptions,
} from './group-membership-types';

import { BackoffTimer } from './backoff-timer';
import { Lifecycle } from './lifecycle';

// Its options, events and error: part of this recipe's public face.
export {
  DuplicateMemberError,
  type GroupMembershipEvents,
  type GroupMembershipOptions,
} from './group-membership-types';

interface Deferred {
  resolve(): void;
  reject(error: Error): void;
}

interface WriteWaiter extends Deferred {
  seq: number;
}

/**
 * Group membership (service discovery): this process is the member `<path>/<id>`,
 * an ephemeral node holding its JSON data, and it sees the whole group through a
 * `GroupView` (`members()`, `joined`/`left`/`updated`/`changed`).
 *
 * Guarantees
 * - While this process lives and its session is steady, its node exists with the
 *   latest data given to `start()`/`update()`. After a session loss it is
 *   re-created on the replacement session with that latest data; a node deleted by
 *   someone else while the session is fine is re-created too (a data watch on it).
 * - An id is never stolen: if `<path>/<id>` belongs to another live session,
 *   `start()` fails with a `DuplicateMemberError` naming the id, and the existing
 *   node is left untouched. A node left behind by this member's own previous
 *   session (it can outlive a `lost` declared client-side by up to one session
 *   timeout) is waited out, never overwritten.
 * - `close()` deletes the node at once (others see `left` within a round trip),
 *   and nothing is re-created afterwards.
 *
 * Failure modes
 * - Others see this member `left` within one session timeout of its process
 *   dying, and not before: a paused (GC, SIGSTOP) process still looks alive until
 *   its session expires.
 * - While the session is lost the member is absent from the group (between the
 *   servers' expiry and the re-creation); observers may see `left` then `joined`.
 * - Re-creation waits while another live session holds the id (reported through
 *   `error` with a `DuplicateMemberError`); it resumes when that node goes.
 * - If the process restarts within one session timeout of dying, its old node
 *   still exists: `start()` waits for it to expire (`duplicateWaitMs`), and fails
 *   as a duplicate only if it outlives that wait.
 * - While suspended the view may be stale (`isStale`); see `GroupView`.
 */
export class GroupMembership<T extends object> extends TypedEmitter<GroupMembershipEvents<T>> {
  readonly id: string;
  /** The group znode. */
  readonly path: string;
  /** This member's node. */
  readonly memberPath: string;
  private readonly lifecycle = new Lifecycle('GroupMembership');
  private readonly view: GroupView<T>;
  /** The data to hold, as written (JSON), with a sequence number for `update()` waiters. */
  private latest: { raw: string; seq: number };
  /** Session on which the node is known to be ours. */
  private registeredSession: string | undefined;
  /** Session for which `registered` was emitted. */
  private announcedSession: string | undefined;
  /** The node's data as last read or written; undefined when unknown. */
  private written: string | undefined;
  /** The data watch on this member's node (slot 'own'). */
  private readonly watches = new WatchSlots();
  /** Sessions that created this member's node: a node of theirs is stale, not a duplicate. */
  private readonly ownSessions = new Set<string>();
  private duplicateTimer: NodeJS.Timeout | undefined;
  private reportedOwner: string | null | undefined;
  private needReconcile = false;
  private loop: Promise<void> | undefined;
  private readonly retry = new BackoffTimer();
  private firstRegistration: Deferred | undefined;
  private writeWaiters: WriteWaiter[] = [];

  private readonly onLost = (): void => {
    this.registeredSession = undefined;
    this.announcedSession = undefined;
    this.written = undefined;
    this.watches.clear();
  };
  private readonly onConnected = (): void => this.kick();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly options: GroupMembershipOptions<T>,
  ) {
    super();
    this.path = validateGroupPath(options.path);
    this.id = validateNodeName(options.id, 'group member id');
    this.memberPath = joinPath(this.path, this.id);
    this.latest = { raw: encodeMember(this.id, options.data), seq: 0 };
    this.view = new GroupView<T>(client, { path: this.path, logger: options.logger });
    this.view.on('joined', (id, data) => this.emit('joined', id, data));
    this.view.on('left', (id, data) => this.emit('left', id, data));
    this.view.on('updated', (id, data, previous) => this.emit('updated', id, data, previous));
    this.view.on('changed', () => this.emit('changed'));
    this.view.on('error', (error) => this.emit('error', error));
  }

  /** True while this member's node is known to exist on the current session. */
  get isRegistered(): boolean {
    const session = this.client.sessionInfo?.sessionId;
    return session !== undefined && this.registeredSession === session;
  }

  /** See `GroupView.isStale`. */
  get isStale(): boolean {
    return this.view.isStale;
  }

  /** A snapshot of the group, this member included once registered. */
  members(): ReadonlyMap<string, T> {
    return this.view.members();
  }

  /**
   * Creates the group node if missing and this member's node, then loads the view.
   * Registration waits for a connection (a session loss included); rejects with
   * `DuplicateMemberError` if the id is taken, or if the group node cannot be made.
   */
  async start(): Promise<void> {
    this.lifecycle.start();
    this.unsubscribe = onConnectionStates(this.client, {
      lost: this.onLost,
      connected: this.onConnected,
      reconnected: this.onConnected,
    });
    try {
      await this.client.retry(() => this.client.mkdirp(this.path));
      await new Promise<void>((resolve, reject) => {
        this.firstRegistration = { resolve, reject };
        this.kick();
      });
      await this.view.start();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /**
   * Replaces this member's data (kept for re-creation). Resolves once it is written
   * on the current session; before `start()` it only sets the initial data.
   */
  update(data: T): Promise<void> {
    if (this.lifecycle.state === 'closed') {
      return Promise.reject(
        new Error(`GroupMembership ${this.memberPath}: update() after close()`),
      );
    }
    this.latest = { raw: encodeMember(this.id, data), seq: this.latest.seq + 1 };
    if (!this.lifecycle.isStarted) return Promise.resolve();
    const seq = this.latest.seq;
    const written = new Promise<void>((resolve, reject) =>
      this.writeWaiters.push({ seq, resolve, reject }),
    );
    this.kick();
    return written;
  }

  /** Deletes this member's node (if it is ours), stops the view and every listener. */
  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    this.unsubscribe?.();
    this.retry.cancel();
    clearTimeout(this.duplicateTimer);
    const closed = new Error(`GroupMembership ${this.memberPath} closed`);
    this.firstRegistration?.reject(closed);
    this.firstRegistration = undefined;
    for (const waiter of this.writeWaiters.splice(0)) waiter.reject(closed);
    await this.loop;
    await this.view.close();
    await this.deleteOwnNode();
    this.removeAllListeners();
  }

  // ---- keeping the node -----------------------------------------------------------

  private kick(): void {
    if (!this.lifecycle.isStarted) return;
    this.needReconcile = true;
    if (this.loop !== undefined || this.retry.isWaiting) return;
    this.loop = this.drain().finally(() => {
      this.loop = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.lifecycle.isStarted && this.needReconcile) {
      const session = this.client.isConnected ? this.client.sessionInfo?.sessionId : undefined;
      // No session now: `connected`/`reconnected` kicks again.
      if (session === undefined) return;
      this.needReconcile = false;
      try {
        await this.reconcile(session);
        this.retry.reset();
      } catch (error) {
        if (!this.lifecycle.isStarted) return;
        this.needReconcile = true;
        this.onReconcileFailed(error);
        return;
      }
    }
  }

  private onReconcileFailed(error: unknown): void {
    if (isConnectionProblem(error)) {
      // A create that failed this way may have happened: the next attempt finds out.
      if (this.client.isConnected) this.retryLater();
      return;
    }
    const failure = error instanceof Error ? error : new Error(String(error));
    if (this.firstRegistration) {
      this.firstRegistration.reject(failure);
      this.firstRegistration = undefined;
      return;
    }
    this.log('warn', 'group member registration failed; retrying', { error: failure.message });
    this.emit('error', failure);
    this.retryLater();
  }

  private retryLater(): void {
    this.retry.schedule(() => this.kick());
  }

  /** One step towards "our node exists on `session` with the latest data, watched". */
  private async reconcile(session: string): Promise<void> {
    const target = this.latest;
    if (this.registeredSession !== session) {
      try {
        await this.client.create(this.memberPath, target.raw, 'ephemeral');
        this.ownSessions.add(session);
        this.registeredSession = session;
        this.written = target.raw;
      } catch (error) {
        if (error instanceof NoNodeError) {
          // The group node itself was deleted.
          await this.client.mkdirp(this.path);
          this.needReconcile = true;
          return;
        }
        if (!(error instanceof NodeExistsError)) throw error;
        // Ours (a create whose reply was lost), stale, or a duplicate: read it.
      }
    }
    if (this.registeredSession !== session || !this.watches.isArmed('own')) {
      let node;
      try {
        // getData, not exists: a node that is already gone leaves no watch behind.
        node = await this.watches.run(
          'own',
          (watcher) => this.client.get(this.memberPath, watcher),
          (event) => this.onOwnNodeEvent(event, session),
        );
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        this.registeredSession = undefined;
        this.needReconcile = true;
        return;
      }
      const owner = node.stat.ephemeralOwner;
      if (owner !== session) {
        // The watch now waits for that node's deletion.
        this.registeredSession = undefined;
        this.onForeignNode(owner);
        return;
      }
      this.ownSessions.add(session);
      this.registeredSession = session;
      this.written = node.data.toString('utf8');
    }
    if (this.written !== target.raw) {
      try {
        await this.client.set(this.memberPath, target.raw);
        this.written = target.raw;
      } catch (error) {
        this.written = undefined;
        if (!(error instanceof NoNodeError)) throw error;
        this.registeredSession = undefined;
        this.needReconcile = true;
        return;
      }
    }
    this.onRegistered(session, target.seq);
  }

  private onRegistered(session: string, seq: number): void {
    // A reply from a session that ended meanwhile proves nothing about the current one.
    if (this.client.sessionInfo?.sessionId !== session) {
      this.needReconcile = true;
      return;
    }
    if (this.announcedSession !== session) {
      this.announcedSession = session;
      this.reportedOwner = undefined;
      this.log('log', 'group member registered', { sessionId: session });
      this.emit('registered', session);
    }
    clearTimeout(this.duplicateTimer);
    this.firstRegistration?.resolve();
    this.firstRegistration = undefined;
    const done = this.writeWaiters.filter((waiter) => waiter.seq <= seq);
    this.writeWaiters = this.writeWaiters.filter((waiter) => waiter.seq > seq);
    for (const waiter of done) waiter.resolve();
  }

  private onForeignNode(owner: string | null): void {
    if (owner !== null && this.ownSessions.has(owner)) {
      this.log('log', 'waiting for the member node of a previous session to expire', {
        staleSessionId: owner,
      });
      return;
    }
    const error = new DuplicateMemberError(this.id, this.memberPath, owner);
    const first = this.firstRegistration;
    if (first) {
      const waitMs = this.options.duplicateWaitMs ?? this.client.sessionTimeoutMs + 1_000;
      if (waitMs <= 0) {
        this.firstRegistration = undefined;
        first.reject(error);
      } else if (!this.duplicateTimer) {
        // Maybe our own previous process: its node goes when its session expires.
        this.log('log', 'member id held by another session; waiting for it to expire', {
          owner,
          waitMs,
        });
        this.duplicateTimer = setTimeout(() => {
          if (this.firstRegistration !== first) return;
          this.firstRegistration = undefined;
          first.reject(error);
        }, waitMs);
      }
      return;
    }
    if (this.reportedOwner !== owner) {
      this.reportedOwner = owner;
      this.log('warn', error.message);
      this.emit('error', error);
    }
  }

  /** Our node (or the stale or duplicate node we wait on) changed or went. */
  private onOwnNodeEvent(event: WatchEvent, session: string): void {
    if (!this.lifecycle.isStarted) return;
    if (event.type === 'deleted') {
      if (this.registeredSession === session) {
        this.log('warn', 'member node deleted while the session is alive; re-creating', {
          sessionId: session,
        });
      }
      this.registeredSession = undefined;
      this.announcedSession = undefined;
    } else {
      this.written = undefined;
    }
    this.kick();
  }

  private async deleteOwnNode(): Promise<void> {
    // Even unconfirmed: a create whose reply was lost may have left our node.
    const session = this.client.sessionInfo?.sessionId;
    if (session === undefined) return;
    try {
      const { stat } = await this.client.get(this.memberPath);
      // Only our own incarnation: a duplicate's node must survive our close.
      if (stat.ephemeralOwner === session) await this.client.delete(this.memberPath);
    } catch (error) {
      if (error instanceof NoNodeError) return;
      this.log('warn', 'could not delete the member node on close; it goes with the session', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private log(level: 'log' | 'warn', message: string, context?: Record<string, unknown>): void {
    this.options.logger?.[level](message, { path: this.memberPath, ...context });
  }
}
