import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { GroupMembership, LeaderElection, ZkClient, type FencingToken } from '@app/zk';
import { AppConfig, memberEndpoint } from '@app/common';
import { ZkLayout, type MemberInfo } from '@app/contracts';
import { AuditWriter } from '@app/store';
import { Registry } from 'prom-client';
import { SCHEDULER_TUNING, type SchedulerTuning } from '../scheduler-tuning';
import { JobCatalog } from '../catalog/job-catalog';
import { SCHEDULE_FACTORY, type ScheduleFactory } from '../timing/schedule-factory';
import { LeaderSession } from './leader-session';
import { SchedulerMetrics } from './scheduler-metrics';

/**
 * Every scheduler replica registers itself and stands for election; the one
 * elected runs a LeaderSession until its leadership is revoked (suspended or
 * lost session, deposed) or the process stops. A failed start of a term is
 * retried while the leadership lasts.
 */
@Injectable()
export class SchedulerLeadership implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Leadership');
  private readonly election: LeaderElection;
  private readonly membership: GroupMembership<MemberInfo>;
  private session: LeaderSession | undefined;
  /** Serialises term changes: a new term starts only after the old one has stopped. */
  private transitions: Promise<void> = Promise.resolve();
  private readonly metrics: SchedulerMetrics;

  constructor(
    private readonly client: ZkClient,
    private readonly config: AppConfig,
    private readonly audit: AuditWriter,
    @Inject(SCHEDULER_TUNING) private readonly tuning: SchedulerTuning,
    @Inject(SCHEDULE_FACTORY) private readonly scheduleFor: ScheduleFactory,
    private readonly catalog: JobCatalog,
    registry: Registry,
  ) {
    this.metrics = new SchedulerMetrics(
      registry,
      () => this.election.isLeader,
      () => {
        const dispatcher = this.session?.dispatcher;
        if (!dispatcher || !this.election.isLeader) return undefined;
        return {
          countByState: () => dispatcher.countByState(),
          readyCount: () => dispatcher.readyCount(),
          liveWorkers: () => dispatcher.pool.size,
        };
      },
    );
    const info: MemberInfo = { endpoint: this.endpoint, pid: process.pid, startedAt: Date.now() };
    this.election = new LeaderElection(client, {
      path: ZkLayout.schedulerElection,
      id: config.memberId,
      data: { ...info },
    });
    this.membership = new GroupMembership<MemberInfo>(client, {
      path: ZkLayout.members('schedulers'),
      id: config.memberId,
      data: info,
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  /** The running term, if this replica leads (for tests and diagnostics). */
  get currentSession(): LeaderSession | undefined {
    return this.session;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.election.on('elected', (token) => this.change(() => this.beginTerm(token)));
    this.election.on('revoked', (reason) => {
      this.logger.warn({ msg: 'leadership revoked', reason });
      this.change(() => this.endTerm());
    });
    this.election.on('error', (error) =>
      this.logger.error({ msg: 'election error', error: String(error) }),
    );
    await this.membership.start();
    await this.election.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    const session = this.session;
    if (session && this.election.isLeader) {
      // Say so while the fence still holds: the next leader starts from a clean handover.
      await session.context.writes
        .submit({
          ops: [],
          events: [session.context.event('leader.revoked', { detail: { reason: 'shutdown' } })],
        })
        .catch(() => undefined);
    }
    await this.election.close();
    await this.transitions;
    await this.membership.close();
  }

  private change(step: () => Promise<void>): void {
    this.transitions = this.transitions.then(step, step);
  }

  private async beginTerm(token: FencingToken): Promise<void> {
    await this.endTerm();
    if (this.election.token !== token) return; // already revoked again
    const session = new LeaderSession(
      {
        client: this.client,
        election: this.election,
        audit: this.audit,
        tuning: this.tuning,
        scheduleFor: this.scheduleFor,
        catalog: this.catalog,
        memberId: this.config.memberId,
        endpoint: this.endpoint,
        metrics: this.metrics,
        logger: {
          log: (msg, context) => this.logger.log({ msg, ...context }),
          warn: (msg, context) => this.logger.warn({ msg, ...context }),
          error: (msg, context) => this.logger.error({ msg, ...context }),
        },
      },
      token,
    );
    this.session = session;
    this.logger.log({ msg: 'elected leader', epoch: token.epoch, candidate: token.candidatePath });
    try {
      await session.start();
    } catch (error) {
      if (!session.context.active || this.election.token !== token) return;
      this.logger.error({ msg: 'leader start failed; retrying', error: String(error) });
      setTimeout(() => this.change(() => this.beginTerm(token)), 1_000);
    }
  }

  private async endTerm(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  private get endpoint(): string {
    return memberEndpoint(this.config);
  }
}
