import type { LeaderElection, StructuredLogger, ZkClient } from '@app/zk';
import type { AuditEvent } from '@app/contracts';
import type { AuditStore } from '@app/audit';
import type { RegistrySettings } from '../config/registry-settings';
import type { WebhookDeliverer } from '../webhooks/webhook-deliverer';
import { TaskRetention } from '../retention/task-retention';
import type { DrainMetrics } from './drain-metrics';
import { OutboxDrainer } from './outbox-drainer';

export interface DrainTermDependencies {
  client: ZkClient;
  election: LeaderElection;
  store: AuditStore;
  settings: RegistrySettings;
  metrics: DrainMetrics;
  logger: StructuredLogger;
  /** Each stored batch (for live streams). */
  onStored: (events: readonly AuditEvent[]) => void;
  /** ZooKeeper refused a fenced write: the term must end. */
  onDeposed: () => void;
  /** Makes the `audit.backlog` event (see OutboxDrainer). */
  backlogEvent?: (detail: { depth: number; threshold: number }) => AuditEvent;
  /** The webhook deliverer of this term; undefined when webhooks are off. */
  webhooks?: () => WebhookDeliverer;
}

/**
 * One drain leadership: from `elected` to `revoked`. The outbox drain and the
 * retention of finished tasks, both writing through the election's fenced
 * multi, so that nothing of a deposed term lands in ZooKeeper; and the webhook
 * deliveries (PostgreSQL only), so that one registry at a time sends them.
 */
export class DrainTerm {
  readonly drainer: OutboxDrainer;
  readonly retention: TaskRetention;
  /** Delivers webhooks while this term lasts (the draining registry only). */
  readonly webhooks: WebhookDeliverer | undefined;

  private readonly metrics: DrainMetrics;

  constructor(deps: DrainTermDependencies) {
    this.metrics = deps.metrics;
    this.webhooks = deps.webhooks?.();
    const commit = (ops: Parameters<LeaderElection['fencedMulti']>[0]) =>
      deps.election.fencedMulti(ops);
    this.retention = new TaskRetention({
      client: deps.client,
      store: deps.store,
      commit,
      retentionMs: deps.settings.retentionMs,
      committedThrough: () => this.drainer.committedThrough,
      metrics: deps.metrics,
      logger: deps.logger,
    });
    this.drainer = new OutboxDrainer({
      client: deps.client,
      store: deps.store,
      commit,
      settings: deps.settings,
      metrics: deps.metrics,
      logger: deps.logger,
      onCommitted: (events) => {
        this.retention.onDrained(events);
        if (events.length > 0) this.webhooks?.notify();
        if (events.length > 0) deps.onStored(events);
      },
      onDeposed: deps.onDeposed,
      backlogEvent: deps.backlogEvent,
    });
  }

  async start(): Promise<void> {
    this.metrics.isDrainer.set(1);
    this.drainer.start();
    this.retention.start();
    this.webhooks?.start();
  }

  async close(): Promise<void> {
    await Promise.all([this.drainer.stop(), this.retention.stop(), this.webhooks?.close()]);
    this.metrics.isDrainer.set(0);
  }
}
