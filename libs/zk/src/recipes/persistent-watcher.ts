import { ZkCode, ZkError } from '../client/errors';
import { TypedEmitter } from '../client/typed-emitter';
import type { WatchEvent, Watcher } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { Lifecycle } from './lifecycle';
import { WatchedRead } from './watched-read';

export interface PersistentWatcherEvents {
  [event: string]: unknown[];
  /** A node at or under the path was created, deleted or had its data changed. */
  change: [WatchEvent];
  /**
   * The watch was set again after the connection came back or a new session
   * began: changes made while it was down were not reported; read again what
   * matters.
   */
  reset: [];
}

export interface PersistentWatcherOptions {
  /** Setting the watch failed for a reason other than connection trouble (it is retried). */
  onError?: (error: unknown) => void;
}

/**
 * One persistent recursive watch (ZooKeeper 3.6+, like Curator's
 * PersistentWatcher): every change at or under `path` is reported, in the
 * servers' order, without a read to re-arm it. The servers keep such a watch per
 * connection, so it is set again after every reconnect and new session, and
 * `reset` says that changes may have been missed in between.
 *
 * Servers older than 3.6 refuse it: `start()` then resolves false and nothing
 * is reported (the caller falls back to one-shot watches).
 *
 * Do not also set one-shot watches on the same path from the same session:
 * servers before 3.9 drop such a watch, set before, when the persistent one
 * is added on that path (ZOOKEEPER-4466), which happens again after every new
 * session. Watches on other paths (the nodes under it) are not affected.
 */
export class PersistentWatcher extends TypedEmitter<PersistentWatcherEvents> {
  private readonly lifecycle = new Lifecycle('PersistentWatcher');
  private readonly setter: WatchedRead;
  private timesSet = 0;
  private unsupported = false;
  private readonly listener: Watcher = (event) => {
    if (this.lifecycle.isStarted) this.emit('change', event);
  };

  constructor(
    private readonly client: ZkClient,
    private readonly path: string,
    options: PersistentWatcherOptions = {},
  ) {
    super();
    // A WatchedRead whose watcher is never set: it runs on start, on every
    // connected and reconnected, and again after a failure.
    this.setter = new WatchedRead(client, () => this.setWatch(), {
      retryDelayMs: 1_000,
      onError: options.onError,
    });
  }

  /** Resolves once the watch is set (true), or the servers refused it as unknown (false). */
  async start(): Promise<boolean> {
    this.lifecycle.start();
    await this.setter.start();
    return !this.unsupported;
  }

  /** Stops reporting; the servers' watch ends with the connection. */
  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    this.client.removeWatch(this.path, this.listener);
    await this.setter.close();
  }

  private async setWatch(): Promise<void> {
    if (this.unsupported || !this.lifecycle.isStarted) return;
    try {
      await this.client.addWatch(this.path, this.listener);
    } catch (error) {
      if (!(error instanceof ZkError && error.code === ZkCode.UNIMPLEMENTED)) throw error;
      this.unsupported = true;
      this.client.removeWatch(this.path, this.listener);
      return;
    }
    if (this.timesSet++ > 0) this.emit('reset');
  }
}
