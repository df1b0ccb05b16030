import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { onConnectionStates } from '../client/connection-states';
import { ClientClosedError, isConnectionProblem } from '../client/errors';
import { basename, joinPath } from '../client/paths';
import { TypedEmitter } from '../client/typed-emitter';
import { Op } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { Lifecycle } from './lifecycle';
import { ClaimLostError, QueueClaims } from './queue-claims';
import {
  ITEM_NAME,
  decodeItem,
  parseItemName,
  type ParsedName,
  type QueueItem,
} from './queue-codec';
import {
  QueueHandlerError,
  type ConsumeOptions,
  type DistributedQueueEvents,
  type DistributedQueueOptions,
  type QueueHandler,
} from './queue-types';
import { QueueBacklog } from './queue-backlog';
import { putItem, putItems } from './queue-producer';

// The queue's public face: its items and the error of a lost claim live beside it.
export { ClaimLostError } from './queue-claims';
export type { JsonValue, QueueItem } from './queue-codec';
export * from './queue-types';

/**
 * DistributedQueue: items go to exactly one consumer at a time, and none is lost
 * when a consumer dies mid-item (Curator's DistributedQueue with a lock path).
 *
 * Layout under `path`:
 * - `items/item-<kind>-<attempt>-<seq>`: persistent-sequential, the item's bytes
 *   as data (kind: b = Buffer, s = string, j = JSON; attempt counts deliveries).
 * - `claims/<item name>`: ephemeral, the consumer id: who processes it now.
 * - `failed/<item name>`: persistent, items that failed `maxAttempts` times.
 *
 * Consuming an item: read it; claim it with one `multi` that creates the
 * ephemeral claim AND rewrites the item unchanged with its read version (the
 * item's new version is the claim's fencing token); run the handler; then
 * delete the claim and the item (at the token version) in one `multi`. A handler
 * failure requeues in one `multi` (delete claim + delete item + create the item
 * again at the tail with attempt + 1), or parks it in `failed/` after
 * `maxAttempts`. No item is deleted before its handler succeeded.
 *
 * Guarantees
 * - At-least-once delivery: an item leaves the queue only through a successful
 *   handler (or `failed/`), so it is never lost while ZooKeeper keeps its data.
 * - Exactly-once consumption: the delete `multi` of an item commits once. A
 *   consumer whose claim is gone (session ended: the ephemeral claim vanished)
 *   or superseded (another consumer re-claimed: the item's version moved) has its
 *   late delete rejected by ZooKeeper itself; it emits `error` (ClaimLostError).
 * - A handler sees an item more than once only if a consumer died or lost its
 *   session while holding the claim, i.e. during the handler or before its
 *   delete `multi` committed, or `close()` gave back the claim of a handler that
 *   outlived `closeTimeoutMs` (plus redeliveries after handler failures). The
 *   handler's `signal` is aborted as soon as the claim is known to be lost.
 * - No polling: one children watch on `items/` per consumer, re-armed when it
 *   lists again, and a watch on `claims/` only while every item it sees is
 *   claimed by someone else (to notice a dead consumer's claim vanishing).
 *
 * Failure modes
 * - The claim of a dead consumer lasts until the servers expire its session, so
 *   its items wait up to one session timeout.
 * - `put` is not idempotent: after a ConnectionLossError the item may or may not
 *   be queued; putting it again may queue it twice (delivery stays at-least-once).
 * - Order is approximately FIFO: by default a consumer picks its next few items
 *   at random among the first 64 waiting (taken in sequence order), so
 *   concurrent consumers rarely collide on a claim; `ordering: 'fifo'` is strict
 *   order, for a single consumer. A requeued item goes to the tail.
 */

interface Running {
  controller: AbortController;
  done: Promise<void>;
  /** Set by close(): the claim was given back, so the outcome is no longer ours to commit. */
  released: boolean;
}

const RETRY_FILL_MS = 200;

export class DistributedQueue extends TypedEmitter<DistributedQueueEvents> {
  private readonly lifecycle = new Lifecycle('DistributedQueue');
  private readonly itemsPath: string;
  private readonly claimsPath: string;
  private readonly failedPath: string;
  private readonly consumerId: string;
  private readonly maxAttempts: number;
  private readonly closeTimeoutMs: number;
  private handler: QueueHandler | undefined;
  private concurrency = 1;
  /** Items being claimed or handled by this consumer. */
  private readonly inFlight = new Set<string>();
  private readonly running = new Map<string, Running>();
  private readonly backlog: QueueBacklog;
  private readonly claims: QueueClaims;
  private filling = false;
  private fillAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    options: DistributedQueueOptions,
  ) {
    super();
    this.itemsPath = joinPath(options.path, 'items');
    this.claimsPath = joinPath(options.path, 'claims');
    this.failedPath = joinPath(options.path, 'failed');
    this.consumerId =
      options.consumerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.claims = new QueueClaims(client, this.itemsPath, this.claimsPath, this.consumerId);
    this.maxAttempts = options.maxAttempts ?? 10;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.backlog = new QueueBacklog(
      client,
      this.itemsPath,
      this.claimsPath,
      options.ordering ?? 'spread',
      () => this.scheduleFill(),
    );
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new Error(
        `DistributedQueue maxAttempts must be a positive integer, got ${this.maxAttempts}`,
      );
    }
  }

  /** Creates the queue's nodes. Consuming starts with `consume()`. */
  async start(): Promise<void> {
    this.lifecycle.start();
    await this.client.mkdirp(this.itemsPath);
    await this.client.mkdirp(this.claimsPath);
    await this.client.mkdirp(this.failedPath);
  }

  /** Queues one item at the tail; resolves with its node name. */
  async put(item: QueueItem): Promise<string> {
    this.requireStarted('put');
    return putItem(this.client, this.itemsPath, item);
  }

  /**
   * Queues many items in order, in `multi` batches (each batch is atomic, the
   * whole call is not: a failure leaves the earlier batches queued).
   */
  async putMany(items: readonly QueueItem[]): Promise<string[]> {
    this.requireStarted('putMany');
    return putItems(this.client, this.itemsPath, items);
  }

  /** Items waiting or being processed (claimed items included). */
  async size(): Promise<number> {
    const { children } = await this.client.children(this.itemsPath);
    return children.filter((name) => ITEM_NAME.test(name)).length;
  }

  /** Starts consuming with `handler`; once per queue instance. */
  consume(handler: QueueHandler, options: ConsumeOptions = {}): void {
    this.requireStarted('consume');
    if (this.handler) throw new Error('DistributedQueue.consume() called twice');
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(
        `DistributedQueue concurrency must be a positive integer, got ${concurrency}`,
      );
    }
    this.handler = handler;
    this.concurrency = concurrency;
    this.unsubscribe = onConnectionStates(this.client, {
      lost: () => {
        // Every claim and watch of the old session is gone.
        this.backlog.forgetWatches();
        this.claims.forgetUncertain();
        for (const [name, entry] of this.running) {
          entry.controller.abort(new ClaimLostError(name, 'session ended'));
        }
      },
      connected: () => this.scheduleFill(),
      reconnected: () => {
        void this.claims.settleUncertain((name) => this.inFlight.has(name));
        this.scheduleFill();
      },
    });
    this.scheduleFill();
  }

  /**
   * Stops taking items, waits up to `closeTimeoutMs` for running handlers, then
   * aborts the rest and gives their claims back (their items stay queued).
   */
  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    clearTimeout(this.retryTimer);
    this.unsubscribe?.();
    const pending = [...this.running.values()].map((entry) => entry.done);
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(pending),
        new Promise((resolve) => (timer = setTimeout(resolve, this.closeTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    await Promise.all(
      [...this.running].map(async ([name, entry]) => {
        entry.released = true;
        entry.controller.abort(new Error('DistributedQueue closed'));
        await this.claims.release(name);
      }),
    );
  }

  // ---- consuming --------------------------------------------------------------------

  private get active(): boolean {
    return this.lifecycle.isStarted && this.handler !== undefined;
  }

  /** Runs `fill` now, or once more after the running one: never two at once. */
  private scheduleFill(): void {
    if (!this.active) return;
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = true;
    void this.fillLoop();
  }

  private async fillLoop(): Promise<void> {
    try {
      do {
        this.fillAgain = false;
        await this.fill();
      } while (this.fillAgain && this.active);
    } catch (error) {
      this.onFillError(error);
    } finally {
      this.filling = false;
    }
  }

  private onFillError(error: unknown): void {
    if (!this.active || error instanceof ClientClosedError) return;
    // Connection trouble ends in `reconnected` or `connected`, which fill again;
    // the timer covers a failure while the connection stayed up.
    if (!isConnectionProblem(error)) this.emit('error', toError(error));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.scheduleFill(), RETRY_FILL_MS);
  }

  /** Starts claims on waiting items until every slot is busy or nothing is left. */
  private async fill(): Promise<void> {
    while (this.active && this.inFlight.size < this.concurrency) {
      if (this.backlog.isEmpty && !(await this.refreshBacklog())) return;
      const name = this.backlog.shift();
      if (name === undefined || this.inFlight.has(name)) continue;
      this.inFlight.add(name);
      void this.process(name);
    }
  }

  /** Lists unclaimed items into the backlog; false when there is nothing to take. */
  private async refreshBacklog(): Promise<boolean> {
    const { found, lookAgain } = await this.backlog.refresh(this.inFlight, this.concurrency);
    if (lookAgain) this.fillAgain = true;
    return found;
  }

  private async process(name: string): Promise<void> {
    try {
      const claim = await this.claims.claim(name);
      if (claim === undefined) return;
      if (!this.active) {
        // Closed while claiming: give it back untouched.
        await this.claims.release(name);
        return;
      }
      try {
        await this.handle(name, claim.version, claim.data);
      } catch (error) {
        // Not committed, and the claim may still be ours: give it back so the
        // item does not wait for our session to end.
        if (!(error instanceof ClaimLostError)) {
          await this.claims.release(name);
        }
        throw error;
      }
    } catch (error) {
      if (this.active && !(error instanceof ClientClosedError)) this.emit('error', toError(error));
    } finally {
      this.inFlight.delete(name);
      this.scheduleFill();
    }
  }

  private async handle(name: string, version: number, data: Buffer): Promise<void> {
    const handler = this.handler;
    if (handler === undefined) return;
    const parsed = parseItemName(name);
    const controller = new AbortController();
    let finish: () => void = () => undefined;
    const entry: Running = {
      controller,
      done: new Promise<void>((resolve) => (finish = resolve)),
      released: false,
    };
    this.running.set(name, entry);
    const startedAt = Date.now();
    try {
      let value: QueueItem = data;
      let failure: { error: unknown } | undefined;
      try {
        // An undecodable item counts as a failed delivery: it ends up in failed/.
        value = decodeItem(parsed.kind, data);
        await handler({ name, attempt: parsed.attempt, data, value, signal: controller.signal });
      } catch (error) {
        failure = { error };
      }
      if (entry.released) return;
      if (failure === undefined) {
        await this.complete(name, version);
        this.emit('consumed', {
          name,
          attempt: parsed.attempt,
          value,
          durationMs: Date.now() - startedAt,
        });
      } else {
        await this.retryOrPark(name, version, data, parsed, failure.error);
      }
    } catch (error) {
      if (error instanceof ClaimLostError) controller.abort(error);
      throw error;
    } finally {
      this.running.delete(name);
      finish();
    }
  }

  /** Deletes the claim and the item in one multi, fenced by the claim's version token. */
  private async complete(name: string, version: number): Promise<void> {
    const ops = [
      Op.delete(joinPath(this.claimsPath, name), 0),
      Op.delete(joinPath(this.itemsPath, name), version),
    ];
    await this.claims.commit(name, ops, async () => {
      // A retried delete that finds nothing: ours went through before the reply was lost
      // (or, if our claim was lost meanwhile, another consumer's did). Gone is gone.
      return (await this.client.exists(joinPath(this.itemsPath, name))) === null;
    });
  }

  private async retryOrPark(
    name: string,
    version: number,
    data: Buffer,
    parsed: ParsedName,
    error: unknown,
  ): Promise<void> {
    const release = [
      Op.delete(joinPath(this.claimsPath, name), 0),
      Op.delete(joinPath(this.itemsPath, name), version),
    ];
    this.emit('error', new QueueHandlerError(name, parsed.attempt, error));
    if (parsed.attempt < this.maxAttempts) {
      const next = joinPath(this.itemsPath, `item-${parsed.kind}-${parsed.attempt + 1}-`);
      const results = await this.claims.commit(name, [
        ...release,
        Op.create(next, data, 'persistent_sequential'),
      ]);
      const created = results.find((result) => result.type === 'create');
      const requeuedAs = created?.type === 'create' ? basename(created.path) : '';
      this.emit('requeued', { name, requeuedAs, attempt: parsed.attempt, error });
    } else {
      const failedPath = joinPath(this.failedPath, name);
      await this.claims.commit(name, [...release, Op.create(failedPath, data, 'persistent')]);
      this.emit('failed', { name, failedPath, attempts: parsed.attempt, error });
    }
  }

  private requireStarted(operation: string): void {
    if (!this.lifecycle.isStarted) {
      throw new Error(`DistributedQueue.${operation}() called when ${this.lifecycle.state}`);
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
