import type { WatchEvent, Watcher } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { TypedEmitter } from '../client/typed-emitter';
import { Lifecycle } from './lifecycle';
import { PersistentWatcher } from './persistent-watcher';
import { WatchedRead } from './watched-read';

export interface PersistentListingEvents {
  [event: string]: unknown[];
  /** A node at or under the path was created, deleted or had its data changed. */
  change: [WatchEvent];
}

export interface PersistentListingOptions {
  /** Wait before another listing after a failure while connected (WatchedRead's). */
  retryDelayMs?: number;
  /** Listing, or setting the watch, failed for a reason other than connection trouble (retried). */
  onError?: (error: unknown, during: 'listing' | 'watching') => void;
}

/**
 * A node's children followed the way the worker's inbox and the leader's
 * queue are: a persistent recursive watch (ZooKeeper 3.6+, PersistentWatcher)
 * names each change as it happens (`change`), and `list` reads the children
 * at the start, on `trigger()`, after every reconnect, and after the watch is
 * set again (`reset`: what changed while it was down was not reported). The
 * listing then arms no watch of its own: `list` gets `undefined` (servers
 * before 3.9 drop a session's one-shot watch on a path when it adds a
 * persistent one there, ZOOKEEPER-4466). On an older server, which refuses the
 * persistent watch, `list` gets the children watcher to arm, and every change
 * comes as another listing.
 */
export class PersistentListing extends TypedEmitter<PersistentListingEvents> {
  private readonly lifecycle = new Lifecycle('PersistentListing');
  private readonly changes: PersistentWatcher;
  private readonly listing: WatchedRead;
  private persistent = false;

  constructor(
    client: ZkClient,
    path: string,
    list: (watcher: Watcher | undefined) => Promise<void>,
    options: PersistentListingOptions = {},
  ) {
    super();
    this.listing = new WatchedRead(
      client,
      (watcher) => list(this.persistent ? undefined : watcher),
      {
        retryDelayMs: options.retryDelayMs,
        onError: (error) => options.onError?.(error, 'listing'),
      },
    );
    this.changes = new PersistentWatcher(client, path, {
      onError: (error) => options.onError?.(error, 'watching'),
    });
    this.changes.on('change', (event) => this.emit('change', event));
    this.changes.on('reset', () => this.listing.trigger());
  }

  /**
   * Sets the watch, then lists a first time. Resolves true when the watch is
   * persistent, false when the server is older than 3.6 (or on `close()`).
   */
  async start(): Promise<boolean> {
    this.lifecycle.start();
    this.persistent = await this.changes.start();
    if (!this.lifecycle.isStarted) return false;
    await this.listing.start();
    return this.persistent;
  }

  /** Lists again soon (coalesced with a listing in progress). */
  trigger(): void {
    this.listing.trigger();
  }

  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    await Promise.all([this.changes.close(), this.listing.close()]);
  }
}
