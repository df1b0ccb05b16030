import type * as zookeeper from 'node-zookeeper-client';
import { SessionExpiredError, ZkError, fromNative } from './errors';

/**
 * ZkClient's operation wrapper: each request waits here until a connection is
 * up (rather than in the native client's queue, so that timing it out
 * guarantees it is never sent), is counted when it goes on the wire, settles
 * exactly once with its error mapped to a typed `ZkError`, and can be failed
 * from outside (timeout, connection or session loss, close). The session state
 * machine stays in ZkClient; this holds only the operations in flight.
 */

export type ZkOperationName =
  'create' | 'get' | 'exists' | 'children' | 'set' | 'delete' | 'multi' | 'getAcl' | 'addWatch';

export type NativeRun<T> = (
  native: zookeeper.Client,
  absolutePath: string,
  done: (error: unknown, value: T | undefined) => void,
) => void;

export interface PendingOperation {
  generation: number;
  startedAt: number;
  /** Handed to the native client; until then it waits here for a connection. */
  sent: boolean;
  send(): void;
  reject(error: ZkError): void;
}

export interface OperationQueueHooks {
  /** The native client of the current connection; throws when there is none. */
  native(): zookeeper.Client;
  absolute(path: string): string;
  /** A request found the session of `generation` expired on the servers. */
  onSessionExpired(generation: number): void;
  /** Metrics hook: called once per operation when it settles. Must not throw. */
  onOperation?: (operation: ZkOperationName, durationMs: number, error?: ZkError) => void;
}

export class OperationQueue {
  private readonly pending = new Map<number, PendingOperation>();
  private nextOperationId = 0;
  private readonly sentCounts = new Map<ZkOperationName, number>();

  constructor(private readonly hooks: OperationQueueHooks) {}

  /** Requests put on the wire so far, by operation. Monotonic. */
  get sent(): ReadonlyMap<ZkOperationName, number> {
    return this.sentCounts;
  }

  /**
   * Queues `run` for the session of `generation`; sends it at once when
   * `connected`, otherwise it waits for `sendWaiting` or a failure.
   */
  add<T>(
    operation: ZkOperationName,
    path: string,
    generation: number,
    connected: boolean,
    run: NativeRun<T>,
  ): Promise<T> {
    const id = this.nextOperationId++;
    const { onOperation } = this.hooks;
    return new Promise<T>((resolve, reject) => {
      const done = (error: unknown, value: T | undefined): void => {
        if (!this.pending.delete(id)) return; // already failed by session loss or timeout
        if (!error) {
          onOperation?.(operation, Date.now() - pendingOperation.startedAt);
          resolve(value as T);
          return;
        }
        const failure = error instanceof ZkError ? error : fromNative(error, path);
        onOperation?.(operation, Date.now() - pendingOperation.startedAt, failure);
        reject(failure);
        // A server can keep a connection open on a session it has already ended;
        // the first request to say so is our only notice.
        if (failure instanceof SessionExpiredError) this.hooks.onSessionExpired(generation);
      };
      const pendingOperation: PendingOperation = {
        generation,
        startedAt: Date.now(),
        sent: false,
        // Failed from outside (timeout, session loss): reported like any outcome.
        reject: (failure: ZkError) => {
          onOperation?.(operation, Date.now() - pendingOperation.startedAt, failure);
          reject(failure);
        },
        send: () => {
          pendingOperation.sent = true;
          this.sentCounts.set(operation, (this.sentCounts.get(operation) ?? 0) + 1);
          try {
            run(this.hooks.native(), this.hooks.absolute(path), done);
          } catch (error) {
            done(fromNative(error, path), undefined);
          }
        },
      };
      this.pending.set(id, pendingOperation);
      if (connected) pendingOperation.send();
    });
  }

  /** Sends what waited for a connection of `generation`, in the order it was issued. */
  sendWaiting(generation: number): void {
    for (const operation of this.pending.values()) {
      if (!operation.sent && operation.generation === generation) operation.send();
    }
  }

  /** Fails (and forgets) the pending operations `matches` selects, or all of them. */
  fail(matches: (op: PendingOperation) => boolean, makeError?: () => ZkError): void;
  fail(makeError: () => ZkError): void;
  fail(first: ((op: PendingOperation) => boolean) | (() => ZkError), second?: () => ZkError): void {
    const matches = second ? (first as (op: PendingOperation) => boolean) : () => true;
    const makeError = second ?? (first as () => ZkError);
    for (const [id, op] of this.pending) {
      if (!matches(op)) continue;
      this.pending.delete(id);
      op.reject(makeError());
    }
  }
}
