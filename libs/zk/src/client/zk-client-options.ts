import type { ZkError } from './errors';
import type { StructuredLogger } from './logger';
import type { ZkOperationName } from './operation-queue';
import type { RetryPolicy } from './retry';
import type { SessionInfo } from './types';

/**
 * ZkClient's contract with its users, apart from its methods: the options it
 * takes, the states it reports and the events it emits. In its own file so the
 * client's file holds the session logic, and a reader finds the knobs at once.
 */

export interface ZkClientOptions {
  /** `host:port,host:port…`, optionally with a `/chroot` that `root` is nested under. */
  connectString: string;
  /** Every path of this client is relative to this znode, created at start. Default '/'. */
  root?: string;
  /** Requested session timeout; the server may negotiate it within its bounds. Default 10 s. */
  sessionTimeoutMs?: number;
  /** Upper bound of the random pause between rounds of reconnect attempts. Default 100 ms. */
  reconnectDelayMs?: number;
  /** How long `start()` waits for the first session. Default 2 × session timeout. */
  connectTimeoutMs?: number;
  /** How long an operation may wait while no connection is up. Default: the session timeout. */
  operationTimeoutMs?: number;
  /** Retries of idempotent operations (reads) after a connection loss. */
  retry?: Partial<RetryPolicy>;
  /** `user:password` for the digest scheme; nodes are then created readable only by it. */
  digest?: string;
  logger?: StructuredLogger;
  /**
   * Called once per operation when it settles (for metrics): its name, the time
   * from the call to the outcome (waiting for a connection included), and the
   * error it failed with, if any. Must not throw.
   */
  onOperation?: (operation: ZkOperationName, durationMs: number, error?: ZkError) => void;
}

export type ZkClientState = 'latent' | 'connecting' | 'connected' | 'suspended' | 'closed';

export interface ZkClientEvents {
  [event: string]: unknown[];
  /** A session was established: the first one, or a new one after `lost`. */
  connected: [SessionInfo];
  /** The connection dropped; the session may still be alive on the servers. */
  suspended: [];
  /** The connection is back on the same session: ephemeral nodes and watches are intact. */
  reconnected: [SessionInfo];
  /** The session ended: its ephemeral nodes and watches are gone. A new session follows. */
  lost: [SessionInfo];
  /** The servers refused the credentials; the client closes itself. */
  authFailed: [];
  closed: [];
}
