import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LeaderElection, ZkClient } from '@app/zk';
import { structuredLogger } from '@app/zk/nest';
import { AppConfig, LeadershipTerms, MemberRegistration, memberEndpoint } from '@app/common';
import { ZkLayout } from '@app/contracts';
import { AuditWriter, type LocalLeader } from '@app/store';
import { Registry } from 'prom-client';
import { SCHEDULER_TUNING, type SchedulerTuning } from '../scheduler-tuning';
import { JobCatalog } from '../catalog/job-catalog';
import { SCHEDULE_FACTORY, type ScheduleFactory } from '../timing/schedule-factory';
import { LeaderTerm } from './leader-term';
import { SchedulerMetrics } from './scheduler-metrics';

/**
 * Every scheduler replica registers itself and stands for election; the one
 * elected runs a LeaderTerm until its leadership is revoked (suspended or
 * lost session, deposed) or the process stops. A failed start of a term is
 * retried while the leadership lasts.
 */
@Injectable()
export class SchedulerLeadership implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = structuredLogger('Leadership');
  private readonly election: LeaderElection;
  private readonly terms: LeadershipTerms<LeaderTerm>;
  private readonly metrics: SchedulerMetrics;

  constructor(
    client: ZkClient,
    config: AppConfig,
    audit: AuditWriter,
    private readonly membership: MemberRegistration,
    @Inject(SCHEDULER_TUNING) tuning: SchedulerTuning,
    @Inject(SCHEDULE_FACTORY) scheduleFor: ScheduleFactory,
    catalog: JobCatalog,
    registry: Registry,
  ) {
    this.metrics = new SchedulerMetrics(
      registry,
      () => this.election.isLeader,
      () => {
        const dispatcher = this.terms.current?.dispatcher;
        if (!dispatcher || !this.election.isLeader) return undefined;
        return {
          countByState: () => dispatcher.countByState(),
          readyCount: () => dispatcher.readyCount(),
          liveWorkers: () => dispatcher.pool.size,
        };
      },
    );
    const endpoint = memberEndpoint(config);
    this.election = new LeaderElection(client, {
      path: ZkLayout.schedulerElection,
      id: config.memberId,
      data: { endpoint, pid: process.pid, startedAt: Date.now() },
    });
    this.terms = new LeadershipTerms({
      election: this.election,
      what: 'the schedulers',
      logger: this.logger,
      begin: (token) =>
        new LeaderTerm(
          {
            client,
            election: this.election,
            audit,
            tuning,
            scheduleFor,
            catalog,
            memberId: config.memberId,
            endpoint,
            metrics: this.metrics,
            logger: this.logger,
          },
          token,
        ),
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  /** While this replica leads: where its API's new tasks go (TaskStore.submit). */
  localLeader(): LocalLeader | undefined {
    const term = this.terms.current;
    return term && this.election.isLeader && term.context.active ? term.intake : undefined;
  }

  /** The running term, if this replica leads (for tests and diagnostics). */
  get currentTerm(): LeaderTerm | undefined {
    return this.terms.current;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.membership.register();
    await this.terms.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    const term = this.terms.current;
    if (term && this.election.isLeader) {
      // Say so while the fence still holds: the next leader starts from a clean handover.
      await term.context.writes
        .submit({
          ops: [],
          events: [term.context.event('leader.revoked', { detail: { reason: 'shutdown' } })],
        })
        .catch(() => undefined);
    }
    await this.terms.close();
    await this.membership.close();
  }
}
