import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Registry } from 'prom-client';
import { LeaderElection, ZkClient } from '@app/zk';
import { structuredLogger } from '@app/zk/nest';
import { AppConfig, LeadershipTerms, WEBHOOK_SETTINGS, type WebhookSettings } from '@app/common';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import { AUDIT_STORE, AuditDatabase, WebhookDeliveryStore, type AuditStore } from '@app/audit';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../config/registry-settings';
import { DrainMetrics } from './drain-metrics';
import { DrainTerm } from './drain-term';
import { AuditWriter } from '@app/store';
import { WebhookDeliverer } from '../webhooks/webhook-deliverer';
import { WebhookMetrics } from '../webhooks/webhook-metrics';

/**
 * Every registry stands for the drain election (`/election/registry`); the one
 * elected drains the audit outbox into PostgreSQL and retires finished tasks
 * (a DrainTerm) until its leadership ends; the others stand by and take over
 * within a session timeout of its death.
 */
@Injectable()
export class AuditDrainService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly election: LeaderElection;
  private readonly terms: LeadershipTerms<DrainTerm>;
  private readonly storedListeners = new Set<(events: readonly AuditEvent[]) => void>();

  constructor(
    client: ZkClient,
    config: AppConfig,
    @Inject(AUDIT_STORE) store: AuditStore,
    @Inject(REGISTRY_SETTINGS) settings: RegistrySettings,
    registry: Registry,
    database: AuditDatabase,
    @Inject(WEBHOOK_SETTINGS) webhookSettings: WebhookSettings,
    audit: AuditWriter,
  ) {
    const metrics = new DrainMetrics(registry);
    const logger = structuredLogger('AuditDrain');
    const webhooks = webhookDelivererFactory(database, webhookSettings, registry);
    this.election = new LeaderElection(client, {
      path: ZkLayout.registryElection,
      id: config.memberId,
      data: { pid: process.pid },
    });
    this.terms = new LeadershipTerms({
      election: this.election,
      what: 'the audit drain',
      logger,
      begin: () =>
        new DrainTerm({
          client,
          election: this.election,
          store,
          settings,
          metrics,
          logger,
          onStored: (events) => {
            for (const listener of this.storedListeners) listener(events);
          },
          onDeposed: () => this.terms.endCurrent(),
          webhooks,
          backlogEvent: (detail) => audit.event('audit.backlog', { detail }),
        }),
    });
  }

  get isDrainer(): boolean {
    return this.terms.current !== undefined && this.election.isLeader;
  }

  /** The running term, while this registry drains (tests, diagnostics). */
  get currentTerm(): DrainTerm | undefined {
    return this.terms.current;
  }

  /** Listens to every batch this registry stores (live streams start reading at once). */
  onStored(listener: (events: readonly AuditEvent[]) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.terms.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.terms.close();
  }
}

/** Makes each term's WebhookDeliverer; undefined when WEBHOOK_SECRET_KEY is unset (webhooks off). */
function webhookDelivererFactory(
  database: AuditDatabase,
  settings: WebhookSettings,
  registry: Registry,
): (() => WebhookDeliverer) | undefined {
  const { secretKey } = settings;
  if (secretKey === undefined) return undefined;
  const store = new WebhookDeliveryStore(database.dataSource, {
    assertReady: () => database.assertReady(),
  });
  const metrics = new WebhookMetrics(registry);
  const logger = structuredLogger('Webhooks');
  return () => new WebhookDeliverer(store, { ...settings, secretKey }, metrics, logger);
}
