import {
  NoNodeError,
  Op,
  type FencingToken,
  type LeaderElection,
  type StructuredLogger,
  type ZkClient,
} from '@app/zk';
import { ZkLayout, type LeaderInfo } from '@app/contracts';
import { WriteBatcher, decodeJson, encodeJson, type AuditWriter } from '@app/store';
import { Dispatcher } from '../dispatch/dispatcher';
import type { SchedulerTuning } from '../scheduler-tuning';
import { JobScheduler, type ScheduleFactory } from '../timing/job-scheduler';
import { LeaderContext } from './leader-context';
import type { LeaderMetrics } from './scheduler-metrics';

export interface LeaderTermDependencies {
  client: ZkClient;
  election: LeaderElection;
  audit: AuditWriter;
  tuning: SchedulerTuning;
  logger: StructuredLogger;
  scheduleFor: ScheduleFactory;
  memberId: string;
  endpoint: string;
  metrics?: LeaderMetrics;
}

/**
 * One leadership term: from `elected` to `revoked`. Announces itself in
 * `/leader` (and the audit history), rebuilds the dispatcher and the job
 * scheduler from ZooKeeper, and stops them when the term ends. Every write of
 * the term goes through the election's fenced multi.
 */
export class LeaderTerm {
  readonly context: LeaderContext;
  readonly dispatcher: Dispatcher;
  private readonly jobs: JobScheduler;

  constructor(
    private readonly deps: LeaderTermDependencies,
    readonly token: FencingToken,
  ) {
    const writes = new WriteBatcher({ commit: (ops) => deps.election.fencedMulti(ops) });
    this.context = new LeaderContext(
      deps.client,
      writes,
      deps.audit,
      token,
      deps.tuning,
      deps.logger,
      deps.metrics,
    );
    this.dispatcher = new Dispatcher(this.context);
    this.jobs = new JobScheduler(this.context, this.dispatcher, deps.scheduleFor);
  }

  async start(): Promise<void> {
    await this.announce();
    await this.dispatcher.start();
    await this.jobs.start();
  }

  async close(): Promise<void> {
    this.context.end();
    await this.jobs.close();
    await this.dispatcher.close();
  }

  /** Writes `/leader` and the audit events of the handover in one transaction. */
  private async announce(): Promise<void> {
    const ctx = this.context;
    const info: LeaderInfo = {
      id: this.deps.memberId,
      pid: process.pid,
      endpoint: this.deps.endpoint,
      since: ctx.now(),
      fencingToken: ctx.fencingToken,
    };
    let previous: { info: LeaderInfo; version: number } | undefined;
    try {
      const { data, stat } = await ctx.client.get(ZkLayout.leader);
      previous = { info: decodeJson<LeaderInfo>(data), version: stat.version };
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
    const events = [ctx.event('leader.elected', { detail: { id: info.id, pid: info.pid } })];
    if (previous && previous.info.fencingToken !== info.fencingToken) {
      events.unshift(
        ctx.event('leader.revoked', {
          detail: {
            id: previous.info.id,
            pid: previous.info.pid,
            fencingToken: previous.info.fencingToken,
          },
        }),
      );
    }
    await ctx.writes.submit({
      ops: [
        previous
          ? Op.set(ZkLayout.leader, encodeJson(info), previous.version)
          : Op.create(ZkLayout.leader, encodeJson(info)),
      ],
      events,
    });
  }
}
