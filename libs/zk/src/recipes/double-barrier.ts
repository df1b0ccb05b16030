import { ConnectionLossError, NoNodeError, NodeExistsError } from '../client/errors';
import { joinPath } from '../client/paths';
import { TypedEmitter } from '../client/typed-emitter';
import type { ZkClient } from '../client/zk-client';
import { onConnectionStates } from '../client/connection-states';
import { Lifecycle } from './lifecycle';
import { Deadline, deleteQuietly, sessionBoundController } from './sequential-nodes';
import { Wakeup } from './wakeup';

/**
 * DoubleBarrier: `memberCount` participants start a computation together
 * (`enter`) and finish it together (`leave`) — ZooKeeper's double-barrier recipe,
 * as in Curator's DistributedDoubleBarrier. Meant for gang tasks: use one fresh
 * barrier path per run (e.g. `/barriers/<taskId>`).
 *
 * Layout: each participant is an ephemeral `<path>/<id>`; the participant that
 * completes the count creates `<path>/ready`. Every participant watches `ready`
 * before adding itself, so one that is slow to look cannot miss it even if the
 * others have already left by then.
 *
 * Guarantees
 * - `enter()` resolves only once `memberCount` participants have entered
 *   (`memberCount` is a threshold: more may enter).
 * - `leave()` resolves only once every participant's node is gone. No herd: the
 *   lowest-named participant waits for the highest, every other one for the
 *   lowest; each departure wakes at most one waiter until the lowest goes.
 * - A timeout rejects with `BarrierTimeoutError` and deletes this participant's
 *   node; a session that ends during a wait rejects with `SessionExpiredError`
 *   (the node died with it). Nothing waits for ever on a dead session.
 *
 * Failure modes
 * - A participant that times out in `enter` at the instant the last one arrives
 *   may have been counted: the others pass with one member fewer (the timed-out
 *   one checks `ready` once more before giving up, which narrows the window).
 * - A participant whose process dies inside the barrier counts as having left.
 * - Reusing a path for the next round before every member of the previous one
 *   has returned from `leave` can let a new member pass on the old `ready`.
 */
export interface DoubleBarrierOptions {
  /** Barrier znode, e.g. '/barriers/<taskId>'. */
  path: string;
  /** How many participants must enter before any passes. */
  memberCount: number;
  /** This participant's name: unique within the barrier, no '/'. */
  id: string;
}

export interface DoubleBarrierEvents {
  [event: string]: unknown[];
  entered: [];
  left: [];
  /** The session ended while inside: this participant's node is gone (it counts as left). */
  lost: [];
}

export class BarrierTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly phase: 'enter' | 'leave',
    readonly timeoutMs: number,
    /** enter: participants present; leave: participants other than this one still inside. */
    readonly present: number,
    readonly memberCount: number,
  ) {
    super(
      phase === 'enter'
        ? `DoubleBarrier ${path}: enter timed out after ${timeoutMs} ms with ${present} of ${memberCount} members present`
        : `DoubleBarrier ${path}: leave timed out after ${timeoutMs} ms with ${present} other member(s) still inside`,
    );
    this.name = 'BarrierTimeoutError';
  }
}

const READY = 'ready';

type BarrierState = 'outside' | 'entering' | 'inside' | 'leaving';

export class DoubleBarrier extends TypedEmitter<DoubleBarrierEvents> {
  private readonly lifecycle = new Lifecycle('DoubleBarrier');
  private readonly ownPath: string;
  private readonly readyPath: string;
  private state: BarrierState = 'outside';
  /** Our node exists (as far as we know): false after a session loss. */
  private nodeLive = false;
  private operation: AbortController | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly options: DoubleBarrierOptions,
  ) {
    super();
    if (!Number.isInteger(options.memberCount) || options.memberCount < 1) {
      throw new Error(
        `DoubleBarrier memberCount must be a positive integer, got ${options.memberCount}`,
      );
    }
    if (!/^[^/\s]+$/.test(options.id) || options.id === READY) {
      throw new Error(`invalid DoubleBarrier participant id: '${options.id}'`);
    }
    this.ownPath = joinPath(options.path, options.id);
    this.readyPath = joinPath(options.path, READY);
  }

  get isInside(): boolean {
    return this.state === 'inside';
  }

  async start(): Promise<void> {
    this.lifecycle.start();
    const onLost = (): void => {
      if (!this.nodeLive) return;
      this.nodeLive = false;
      if (this.state === 'inside') this.emit('lost');
    };
    this.unsubscribe = onConnectionStates(this.client, { lost: onLost });
    await this.client.mkdirp(this.options.path);
  }

  /**
   * Adds this participant and resolves once `memberCount` are present. Rejects
   * with `BarrierTimeoutError` after `timeoutMs` (none: wait for ever) or with
   * `SessionExpiredError`; either way this participant's node is removed.
   */
  async enter(timeoutMs?: number): Promise<void> {
    this.requireState('enter', 'outside');
    this.state = 'entering';
    const deadline = new Deadline(timeoutMs);
    await this.guarded(`entering barrier ${this.options.path}`, async (signal) => {
      const ready = new Wakeup();
      // Watch first, then join: whoever completes the count creates `ready` after
      // our watch is set, so the notification cannot be missed.
      const readyExisted =
        (await this.client.exists(this.readyPath, (event) => {
          if (event.type === 'created') ready.signal();
        })) !== null;
      await this.join(deadline, signal);
      if (!readyExisted) {
        const present = await this.memberCount();
        if (present >= this.options.memberCount) {
          await this.createReady();
        } else if ((await ready.wait(deadline.waitMs, signal)) === 'timeout') {
          // Counted by a last arrival at the very end? Then we are in after all.
          if ((await this.client.exists(this.readyPath)) === null) {
            throw new BarrierTimeoutError(
              this.options.path,
              'enter',
              timeoutMs ?? 0,
              await this.memberCount(),
              this.options.memberCount,
            );
          }
        }
      }
      this.state = 'inside';
      this.emit('entered');
    });
  }

  /**
   * Removes this participant and resolves once every participant has left.
   * Rejects with `BarrierTimeoutError` after `timeoutMs` (this participant's
   * node is gone by then) or with `SessionExpiredError`.
   */
  async leave(timeoutMs?: number): Promise<void> {
    this.requireState('leave', 'inside');
    this.state = 'leaving';
    const deadline = new Deadline(timeoutMs);
    await this.guarded(`leaving barrier ${this.options.path}`, async (signal) => {
      for (;;) {
        signal.throwIfAborted();
        const members = await this.members();
        if (members.length === 0) break;
        const index = this.nodeLive ? members.indexOf(this.options.id) : -1;
        if (this.nodeLive && index < 0) this.nodeLive = false; // removed behind our back
        if (index === 0 && members.length === 1) {
          await this.removeOwnNode();
          break;
        }
        let watched: string;
        if (index === 0) {
          // Lowest: stay until everyone else is gone, watching the highest.
          watched = members[members.length - 1];
        } else {
          await this.removeOwnNode();
          watched = members[0];
        }
        const woken = new Wakeup();
        try {
          await this.client.get(joinPath(this.options.path, watched), woken.signal);
        } catch (error) {
          if (error instanceof NoNodeError) continue;
          throw error;
        }
        if ((await woken.wait(deadline.waitMs, signal)) === 'timeout') {
          throw new BarrierTimeoutError(
            this.options.path,
            'leave',
            timeoutMs ?? 0,
            (await this.members()).filter((name) => name !== this.options.id).length,
            this.options.memberCount,
          );
        }
      }
      // Everyone is out: the round is over, so `ready` goes (any member may do it).
      await deleteQuietly(this.client, this.readyPath);
      this.state = 'outside';
      this.emit('left');
    });
  }

  /** Aborts a pending enter/leave, removes this participant's node, stops listening. */
  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    this.operation?.abort(new Error(`DoubleBarrier ${this.options.path} closed`));
    this.unsubscribe?.();
    await this.removeOwnNode();
    this.state = 'outside';
  }

  // ---- internals --------------------------------------------------------------------

  /**
   * Runs an enter or leave that ends with the session: on any failure this
   * participant is outside, its node removed.
   */
  private async guarded(what: string, body: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const guard = sessionBoundController(this.client, what);
    this.operation = guard.controller;
    try {
      await body(guard.controller.signal);
    } catch (error) {
      this.state = 'outside';
      await this.removeOwnNode();
      throw error;
    } finally {
      guard.dispose();
      this.operation = undefined;
    }
  }

  /**
   * Creates our ephemeral node. A node of that name owned by our session is a
   * create whose reply was lost; one owned by another session is either our own
   * from an ended session (about to vanish) or a participant using the same id:
   * wait for it to go, until the deadline.
   */
  private async join(deadline: Deadline, signal: AbortSignal): Promise<void> {
    const data = JSON.stringify({ id: this.options.id, at: Date.now() });
    for (;;) {
      signal.throwIfAborted();
      try {
        await this.client.create(this.ownPath, data, 'ephemeral');
        this.nodeLive = true;
        return;
      } catch (error) {
        if (!(error instanceof NodeExistsError) && !(error instanceof ConnectionLossError))
          throw error;
      }
      const gone = new Wakeup();
      let owner: string | null;
      try {
        owner = (await this.client.get(this.ownPath, gone.signal)).stat.ephemeralOwner;
      } catch (error) {
        if (error instanceof NoNodeError) continue;
        throw error;
      }
      if (owner !== null && owner === this.client.sessionInfo?.sessionId) {
        this.nodeLive = true;
        return;
      }
      if ((await gone.wait(deadline.waitMs, signal)) === 'timeout') {
        throw new Error(
          `DoubleBarrier ${this.options.path}: participant id '${this.options.id}' is held by session 0x${owner ?? 'persistent'}`,
        );
      }
    }
  }

  private async createReady(): Promise<void> {
    try {
      await this.client.create(this.readyPath);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  /** Participant names, sorted; `ready` excluded. */
  private async members(): Promise<string[]> {
    try {
      const { children } = await this.client.children(this.options.path);
      return children.filter((name) => name !== READY).sort();
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  private async memberCount(): Promise<number> {
    return (await this.members()).length;
  }

  private async removeOwnNode(): Promise<void> {
    if (!this.nodeLive) return;
    this.nodeLive = false;
    try {
      await deleteQuietly(this.client, this.ownPath);
    } catch {
      // The node is ephemeral: it goes with the session at the latest.
    }
  }

  private requireState(operation: 'enter' | 'leave', expected: BarrierState): void {
    if (!this.lifecycle.isStarted) {
      throw new Error(`DoubleBarrier.${operation}() called when ${this.lifecycle.state}`);
    }
    if (this.state !== expected) {
      throw new Error(`DoubleBarrier.${operation}() called while ${this.state}`);
    }
  }
}
