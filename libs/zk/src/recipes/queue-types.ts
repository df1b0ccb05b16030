import type { QueueItem } from './queue-codec';

/** What a DistributedQueue's handler gets, how it is configured, and what it reports. */

export interface QueueMessage {
  /** The item node's name (unique for this delivery). */
  name: string;
  /** 1 for the first delivery, + 1 for every requeue after a handler failure. */
  attempt: number;
  data: Buffer;
  /** The item as put: a Buffer, a string, or the parsed JSON value. */
  value: QueueItem;
  /** Aborted when this consumer's claim is known to be lost or the queue closed past its grace. */
  signal: AbortSignal;
}

export type QueueHandler = (message: QueueMessage) => Promise<void> | void;

export interface DistributedQueueOptions {
  /** Queue znode, e.g. '/queue/tasks'. */
  path: string;
  /** Written into claims; default `<host>-<pid>-<random>`. */
  consumerId?: string;
  /** Deliveries before a failing item is parked in `failed/`. Default 10. */
  maxAttempts?: number;
  /** How long `close()` waits for running handlers before releasing their claims. Default 10 s. */
  closeTimeoutMs?: number;
  /**
   * 'spread' (default): the next few items are picked at random among the first
   * 64 waiting, so competing consumers rarely try to claim the same item.
   * 'fifo': strict sequence order, for a single consumer that must keep it.
   */
  ordering?: 'spread' | 'fifo';
}

export interface ConsumeOptions {
  /** Handlers running at once in this consumer. Default 1. */
  concurrency?: number;
}

export interface ConsumedEvent {
  name: string;
  attempt: number;
  value: QueueItem;
  durationMs: number;
}

export interface RequeuedEvent {
  name: string;
  requeuedAs: string;
  attempt: number;
  error: unknown;
}

export interface FailedEvent {
  name: string;
  failedPath: string;
  attempts: number;
  error: unknown;
}

export interface DistributedQueueEvents {
  [event: string]: unknown[];
  /** The handler succeeded and the item was deleted (by this consumer, once). */
  consumed: [ConsumedEvent];
  /** The handler failed; the item went back to the tail of the queue. */
  requeued: [RequeuedEvent];
  /** The handler failed `maxAttempts` times; the item was moved to `failed/`. */
  failed: [FailedEvent];
  /** A handler failure (QueueHandlerError), a lost claim (ClaimLostError) or a ZooKeeper error. */
  error: [Error];
}

export class QueueHandlerError extends Error {
  constructor(
    readonly item: string,
    readonly attempt: number,
    override readonly cause: unknown,
  ) {
    super(
      `queue handler failed on ${item} (attempt ${attempt}): ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'QueueHandlerError';
  }
}
