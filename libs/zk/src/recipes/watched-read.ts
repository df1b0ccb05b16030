import { isConnectionProblem } from '../client/errors';
import type { Watcher } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { onConnectionStates } from '../client/connection-states';
import { Lifecycle } from './lifecycle';

export interface WatchedReadOptions {
  /** Spaces reads out under heavy churn: at most one per this many ms (asked before each read). Default 0. */
  minIntervalMs?: number | (() => number);
  /** Wait before another read after a failure while the connection is up. Default 100 ms. */
  retryDelayMs?: number;
  /** A read failed for a reason other than connection trouble (it is retried). */
  onError?: (error: unknown) => void;
}

/**
 * The "read, and read again when the watch fires" loop every watcher of a node
 * needs. `read` sets a one-shot watch with the `watcher` it is given (always
 * the same function, so the client sets it once per path) and does its work;
 * it runs now, again whenever the watch fires, after every reconnect and new
 * session (a new session has lost its watches), and after a failure.
 *
 * Guarantees
 * - Reads never overlap: triggers during a read coalesce into one more read.
 * - No change is missed: a watch that fires during a read makes another read.
 * - `isStale` is true until a read has succeeded since the last connection
 *   trouble; `start()` resolves after the first successful read.
 *
 * Failure modes: while the connection is down nothing is read (the next
 * `connected`/`reconnected` reads); a read that keeps failing for another
 * reason is retried every `retryDelayMs` and reported through `onError`.
 * One instance per watched node: each subscribes to the client's connection
 * states, so a watcher of many nodes should share one.
 */
export class WatchedRead {
  /** Pass this to the client as the watcher: the same function each time, so it is set once. */
  readonly watcher: Watcher = () => this.trigger();
  private readonly lifecycle = new Lifecycle('WatchedRead');
  private reading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRead = 0;
  private stale = true;
  private readonly firstRead: Promise<void>;
  private resolveFirst!: () => void;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly read: (watcher: Watcher) => Promise<void>,
    private readonly options: WatchedReadOptions = {},
  ) {
    this.firstRead = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  get isStale(): boolean {
    return this.stale;
  }

  /** Starts reading; resolves after the first successful read (or at `close()`). */
  start(): Promise<void> {
    this.lifecycle.start();
    this.unsubscribe = onConnectionStates(this.client, {
      connected: () => this.trigger(),
      reconnected: () => this.trigger(),
      suspended: () => (this.stale = true),
      lost: () => (this.stale = true),
    });
    this.trigger();
    return this.firstRead;
  }

  /** Stops reading; resolves once a read in progress has finished. */
  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    this.resolveFirst();
    await this.reading;
  }

  /** Reads again soon (coalesced with a read in progress). */
  trigger(): void {
    if (!this.lifecycle.isStarted) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    const { minIntervalMs = 0 } = this.options;
    const interval = typeof minIntervalMs === 'number' ? minIntervalMs : minIntervalMs();
    const wait = this.lastRead + interval - Date.now();
    if (wait > 0) {
      this.later(wait);
      return;
    }
    this.reading = this.run().then((retry) => {
      this.reading = undefined;
      if (!this.lifecycle.isStarted) return;
      if (retry) this.later(this.options.retryDelayMs ?? 100);
      else if (this.again) this.trigger();
    });
  }

  /** One read; true when it failed and should be tried again after a delay. */
  private async run(): Promise<boolean> {
    this.again = false;
    this.lastRead = Date.now();
    try {
      await this.read(this.watcher);
      this.stale = false;
      this.resolveFirst();
      return false;
    } catch (error) {
      // Connection trouble: `connected`/`reconnected` triggers the next read. Anything
      // else (or a connection that is already back): try again shortly.
      if (!isConnectionProblem(error)) {
        this.options.onError?.(error);
        return true;
      }
      return this.client.isConnected;
    }
  }

  private later(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.trigger();
    }, ms);
  }
}
