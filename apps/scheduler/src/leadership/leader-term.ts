import {
  NoNodeError,
  Op,
  type FencingToken,
  type LeaderElection,
  type StructuredLogger,
  type ZkClient,
} from '@app/zk';
import { ZkLayout, type LeaderInfo } from '@app/contracts';
import {
  WriteBatcher,
  decodeJson,
  encodeJson,
  type AuditWriter,
  type LocalLeader,
} from '@app/store';
import { Dispatcher } from '../dispatch/dispatcher';
import type { SchedulerTuning } from '../scheduler-tuning';
import type { JobCatalog } from '../catalog/job-catalog';
import { JobScheduler } from '../timing/job-scheduler';
import type { ScheduleFactory } from '../timing/schedule-factory';
import { LeaderContext } from './leader-context';
import type { LeaderMetrics } from './scheduler-metrics';

export interface LeaderTermDependencies {
  client: ZkClient;
  election: LeaderElection;
  audit: AuditWriter;
  tuning: SchedulerTuning;
  logger: StructuredLogger;
  scheduleFor: ScheduleFactory;
  catalog: JobCatalog;
  memberId: string;
  endpoint: string;
  metrics?: LeaderMetrics;
}

/**
 * One leadership term: from `elected` to `revoked`. Announces itself in
 * `/leader` (and the audit history), rebuilds the dispatcher from ZooKeeper
 * and, beside it, arms the job scheduler from the replica's warm job view, and
 * stops them when the term ends. Every write of the term goes through the
 * election's fenced multi.
 */
export class LeaderTerm {
  readonly context: LeaderContext;
  readonly dispatcher: Dispatcher;
  /** What this replica's API hands its new tasks to while the term lasts. */
  readonly intake: LocalLeader;
  private readonly jobs: JobScheduler;
  private readonly dispatching: Promise<void>;
  private startDispatching!: () => void;

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
    const begun = new Promise<void>((resolve) => (this.startDispatching = resolve));
    this.dispatching = begun.then(() => this.dispatcher.start());
    this.dispatching.catch(() => undefined); // start() reports it
    this.intake = {
      writes,
      adopt: (record) => this.dispatcher.adopt(record, 0),
      place: (record) => this.dispatcher.place(record),
    };
    this.jobs = new JobScheduler(
      this.context,
      this.dispatcher,
      deps.catalog,
      deps.scheduleFor,
      this.dispatching,
    );
  }

  /**
   * Fires do not wait for the dispatcher's rebuild (it reads every task): the
   * jobs are armed at once, and what needs the live tasks (`forbid`,
   * `replace`, handing new tasks to workers) waits for it.
   */
  async start(): Promise<void> {
    await this.announce();
    this.startDispatching();
    this.jobs.start();
    await this.dispatching;
  }

  async close(): Promise<void> {
    this.context.end();
    this.jobs.close();
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
