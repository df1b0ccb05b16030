import { performance } from 'node:perf_hooks';
import type { NativeConnection } from './native';

/**
 * ZkClient's client-side failure detection, the timers only: the session-loss
 * deadline (the session is declared lost a margin before the servers can have
 * expired it, counting from the send time of the last request they answered)
 * and the housekeeping tick that pings idle connections, drops silent ones and
 * lets the client time out work waiting for a connection. The state transitions
 * themselves stay in ZkClient, reached through `SessionWatchdogHost`.
 */

export interface SessionWatchdogHost {
  connection(): NativeConnection | undefined;
  isConnected(): boolean;
  /** Whether `generation` is still the client's session and the client is open. */
  isCurrent(generation: number): boolean;
  sessionTimeoutMs(): number;
  sessionLossMarginMs(): number;
  /** Nothing was answered in time: the session of `generation` must be given up. */
  onDeadlinePassed(generation: number, reason: string): void;
  /** A housekeeping tick while not connected: time out work waiting for a connection. */
  onDisconnectedTick(): void;
}

/** Housekeeping period: often enough for pings and operation timeouts, at least 50 ms. */
export function housekeepingIntervalMs(
  sessionTimeoutMs: number,
  operationTimeoutMs: number,
): number {
  return Math.max(50, Math.floor(Math.min(sessionTimeoutMs / 10, operationTimeoutMs / 2)));
}

export class SessionWatchdog {
  /** Armed while a session lives: fires at the latest moment it may still be trusted. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private lastPingAt = 0;
  private housekeeping: NodeJS.Timeout | undefined;

  constructor(private readonly host: SessionWatchdogHost) {}

  /** Starts the housekeeping tick (it does not keep the process alive). */
  start(intervalMs: number): void {
    this.housekeeping = setInterval(() => this.runHousekeeping(), intervalMs);
    this.housekeeping.unref();
  }

  stop(): void {
    clearTimeout(this.deadlineTimer);
    clearInterval(this.housekeeping);
  }

  clearDeadline(): void {
    clearTimeout(this.deadlineTimer);
  }

  /**
   * Declares the session lost at (send time of the last answered request) +
   * timeout − margin. The timer is re-armed lazily: answers only move the
   * deadline later, so it fires, finds the new deadline and sleeps until then.
   */
  watchDeadline(generation: number): void {
    clearTimeout(this.deadlineTimer);
    const sentAt = this.host.connection()?.answeredRequestSentAt;
    if (sentAt === undefined) return;
    const timeout = this.host.sessionTimeoutMs();
    const margin = this.host.sessionLossMarginMs();
    const deadline = sentAt + timeout - margin;
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      this.host.onDeadlinePassed(
        generation,
        `no answer to a request sent in the last ${Math.round(timeout - margin)} ms: the servers may expire it within ${Math.round(margin)} ms`,
      );
      return;
    }
    this.deadlineTimer = setTimeout(() => {
      // Timers run before socket reads in a turn of the event loop: after a stall, an
      // answer may be waiting unread. setImmediate decides after this turn's reads.
      setImmediate(() => {
        if (this.host.isCurrent(generation)) this.watchDeadline(generation);
      });
    }, Math.ceil(remaining));
    // The socket keeps a live session's process running, not this timer.
    this.deadlineTimer.unref();
  }

  /** Pings, drops silent connections and times out operations that wait for one. */
  private runHousekeeping(): void {
    const connection = this.host.connection();
    if (!connection) return;
    this.pingIfIdle(connection);
    const readTimeoutMs = (this.host.sessionTimeoutMs() * 2) / 3;
    if (connection.isDialling() && Date.now() - connection.lastHeardAt > readTimeoutMs)
      connection.dropSocket();
    if (this.host.isConnected()) return;
    this.host.onDisconnectedTick();
  }

  /**
   * The native client pings only after a third of the timeout without any
   * traffic, and watch events count as traffic; an answer every third of the
   * timeout keeps the session-loss deadline far from a healthy connection.
   */
  private pingIfIdle(connection: NativeConnection): void {
    if (!this.host.isConnected()) return;
    const now = performance.now();
    const interval = this.host.sessionTimeoutMs() / 3;
    const answeredAt = connection.answeredRequestSentAt ?? 0;
    if (now - answeredAt < interval || now - this.lastPingAt < interval) return;
    this.lastPingAt = now;
    connection.ping();
  }
}
