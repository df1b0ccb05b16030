import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Registry } from 'prom-client';
import { LeaderElection, ZkClient } from '@app/zk';
import { AppConfig } from '@app/common';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import { AUDIT_STORE, type AuditStore } from '@app/audit';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../config/registry-settings';
import { DrainMetrics } from './drain-metrics';
import type { DrainLogger } from './drain-logger';
import { DrainTerm } from './drain-term';

/**
 * Every registry stands for the drain election (`/election/registry`); the one
 * elected drains the audit outbox into PostgreSQL and retires finished tasks
 * (a DrainTerm) until its leadership ends; the others stand by and take over
 * within a session timeout of its death.
 */
@Injectable()
export class AuditDrainService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditDrain');
  private readonly election: LeaderElection;
  private readonly metrics: DrainMetrics;
  private term: DrainTerm | undefined;
  /** Serialises term changes: a new term starts only after the old one has stopped. */
  private transitions: Promise<void> = Promise.resolve();
  private readonly storedListeners = new Set<(events: readonly AuditEvent[]) => void>();

  constructor(
    private readonly client: ZkClient,
    config: AppConfig,
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    registry: Registry,
  ) {
    this.metrics = new DrainMetrics(registry);
    this.election = new LeaderElection(client, {
      path: ZkLayout.registryElection,
      id: config.memberId,
      data: { pid: process.pid },
    });
  }

  get isDrainer(): boolean {
    return this.term !== undefined && this.election.isLeader;
  }

  /** The running term, while this registry drains (tests, diagnostics). */
  get currentTerm(): DrainTerm | undefined {
    return this.term;
  }

  /** Listens to every batch this registry stores (live streams start reading at once). */
  onStored(listener: (events: readonly AuditEvent[]) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.election.on('elected', () => this.change(() => this.beginTerm()));
    this.election.on('revoked', (reason) => {
      this.logger.warn({ msg: 'drain leadership revoked', reason });
      this.change(() => this.endTerm());
    });
    this.election.on('error', (error) =>
      this.logger.error({ msg: 'drain election error', error: String(error) }),
    );
    await this.election.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.election.close();
    await this.transitions;
    await this.endTerm();
  }

  private change(step: () => Promise<void>): void {
    this.transitions = this.transitions.then(step, step);
  }

  private async beginTerm(): Promise<void> {
    await this.endTerm();
    const token = this.election.token;
    if (!token) return; // already revoked again
    const logger: DrainLogger = {
      log: (msg, context) => this.logger.log({ msg, ...context }),
      warn: (msg, context) => this.logger.warn({ msg, ...context }),
      error: (msg, context) => this.logger.error({ msg, ...context }),
    };
    const term = new DrainTerm({
      client: this.client,
      election: this.election,
      store: this.store,
      settings: this.settings,
      metrics: this.metrics,
      logger,
      onStored: (events) => {
        for (const listener of this.storedListeners) listener(events);
      },
      onDeposed: () => this.change(() => this.endTerm()),
    });
    this.term = term;
    this.metrics.isDrainer.set(1);
    this.logger.log({ msg: 'elected to drain the audit outbox', epoch: token.epoch });
    term.start();
  }

  private async endTerm(): Promise<void> {
    const term = this.term;
    this.term = undefined;
    if (!term) return;
    this.metrics.isDrainer.set(0);
    await term.stop();
    this.logger.log({ msg: 'stopped draining the audit outbox' });
  }
}
