import { Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ZkClient, ZkClientState, ZkError, ZkOperationName } from '@app/zk';

const STATES: readonly ZkClientState[] = [
  'latent',
  'connecting',
  'connected',
  'suspended',
  'closed',
];
const SESSION_EVENTS = ['connected', 'suspended', 'reconnected', 'lost'] as const;

/**
 * The ZooKeeper session's Prometheus metrics: latency of every operation as its
 * caller sees it (waiting for a connection included), the connection state,
 * and the session's state changes. Created before the client (which reports
 * each operation through `onOperation`), attached to it once it exists.
 */
@Injectable()
export class ZooKeeperMetrics implements OnModuleDestroy {
  private readonly operations: Histogram<'operation' | 'outcome'>;
  private readonly sessionEvents: Counter<'event'>;
  private client: ZkClient | undefined;
  private readonly detach: Array<() => void> = [];

  /** Without MetricsModule (an application built for a test) the metrics go to a registry of their own. */
  constructor(@Optional() registry?: Registry) {
    const registers = [registry ?? new Registry()];
    this.operations = new Histogram({
      name: 'zks_zookeeper_operation_duration_seconds',
      help: 'ZooKeeper operations from call to outcome, by operation and outcome (ok or error)',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.sessionEvents = new Counter({
      name: 'zks_zookeeper_session_events_total',
      help: 'ZooKeeper session state changes: connected (new session), suspended, reconnected, lost (expired)',
      labelNames: ['event'],
      registers,
    });
    const client = (): ZkClient | undefined => this.client;
    new Gauge({
      name: 'zks_zookeeper_connected',
      help: '1 while the ZooKeeper session is connected, else 0',
      registers,
      collect() {
        this.set(client()?.isConnected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'zks_zookeeper_connection_state',
      help: 'The ZooKeeper client state: 1 for the current state, 0 for the others',
      labelNames: ['state'],
      registers,
      collect() {
        const current = client()?.state ?? 'latent';
        for (const state of STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    new Counter({
      name: 'zks_zookeeper_requests_total',
      help: 'Requests this process sent to ZooKeeper, by operation (a multi is one request)',
      labelNames: ['op'],
      registers,
      collect() {
        const sent = client()?.requestsSent();
        if (!sent) return;
        // The client keeps the running totals; the counter mirrors them.
        this.reset();
        for (const [op, count] of sent) this.inc({ op }, count);
      },
    });
    for (const event of SESSION_EVENTS) this.sessionEvents.inc({ event }, 0);
  }

  /** For ZkClientOptions.onOperation. */
  readonly onOperation = (
    operation: ZkOperationName,
    durationMs: number,
    error?: ZkError,
  ): void => {
    this.operations.observe({ operation, outcome: error ? 'error' : 'ok' }, durationMs / 1000);
  };

  attach(client: ZkClient): void {
    this.client = client;
    // The first session was made before this point (the client starts connected).
    if (client.isConnected) this.sessionEvents.inc({ event: 'connected' });
    for (const event of SESSION_EVENTS) {
      const listener = (): void => this.sessionEvents.inc({ event });
      client.on(event, listener);
      this.detach.push(() => client.off(event, listener));
    }
  }

  onModuleDestroy(): void {
    for (const detach of this.detach.splice(0)) detach();
  }
}
