import {
  BadVersionError,
  NoNodeError,
  NodeExistsError,
  NotLeaderError,
  Op,
  WatchedRead,
  type Watcher,
  type ZkOp,
} from '@app/zk';
import {
  ZkLayout,
  fireTaskId,
  isTerminal,
  type AuditEvent,
  type JobRecord,
  type JobState,
  type TaskRecord,
} from '@app/contracts';
import {
  createTaskOps,
  decodeJson,
  encodeJson,
  jobTaskSubmission,
  newTaskRecord,
} from '@app/store';
import type { Dispatcher } from '../dispatch/dispatcher';
import { Timers } from '../dispatch/timers';
import type { LeaderContext } from '../leadership/leader-context';
import { planFires } from './fire-plan';
import type { FireSchedule } from './fire-schedule';

/** Builds the fire schedule of a job (cron or one-off); throws for an invalid one. */
export type ScheduleFactory = (job: JobRecord) => FireSchedule;

interface LiveJob {
  record: JobRecord;
  version: number;
  state?: JobState;
  /** Version of `/jobstate/<id>`, undefined while it does not exist. */
  stateVersion?: number;
  schedule?: FireSchedule;
  /** Bumped on every change: timer entries of an older generation are ignored. */
  generation: number;
}

interface FireEntry {
  jobId: string;
  instant: number;
  generation: number;
}

/**
 * The leader's clock for jobs: one timer for the earliest next fire of every
 * job, kept current by watches on `/jobs`. A fire creates the task with the
 * deterministic id `<jobId>@<instant>` (a second leader re-firing the same
 * instant gets NodeExists, invariant 1) and records `lastFireAt` in the same
 * fenced transaction. Fires of `allow` jobs happen `fireLeadMs` ahead so that
 * workers start on the instant; `forbid`/`replace` decide at the instant.
 */
export class JobScheduler {
  private readonly jobs = new Map<string, LiveJob>();
  private readonly timers: Timers<FireEntry>;
  /** The children of `/jobs`: which jobs exist. */
  private readonly jobList: WatchedRead;

  constructor(
    private readonly ctx: LeaderContext,
    private readonly dispatcher: Dispatcher,
    private readonly scheduleFor: ScheduleFactory,
  ) {
    this.jobList = new WatchedRead(ctx.client, (watcher) => this.readJobs(watcher), {
      retryDelayMs: 500,
      onError: (error) => {
        if (!(error instanceof NotLeaderError))
          ctx.logger.warn('could not read the jobs; retrying', { error: String(error) });
      },
    });
    this.timers = new Timers((entry) => {
      this.onTimer(entry).catch((error: unknown) => this.onStepFailed(entry.jobId, error));
    }, ctx.now);
  }

  async start(): Promise<void> {
    await this.jobList.start();
  }

  async close(): Promise<void> {
    this.timers.stop();
    await this.jobList.close();
  }

  // ---- knowing the jobs ----------------------------------------------------------------

  private async readJobs(watcher: Watcher): Promise<void> {
    if (!this.ctx.active) return;
    const { children } = await this.ctx.client.children(ZkLayout.jobs, watcher);
    const present = new Set(children);
    for (const id of this.jobs.keys()) if (!present.has(id)) await this.onJobDeleted(id);
    await Promise.all(children.filter((id) => !this.jobs.has(id)).map((id) => this.loadJob(id)));
  }

  private async loadJob(id: string): Promise<void> {
    try {
      const { data, stat } = await this.ctx.client.get(ZkLayout.job(id), (event) => {
        if (event.type === 'dataChanged') void this.loadJob(id);
      });
      const record = decodeJson<JobRecord>(data);
      const known = this.jobs.get(id);
      if (known && known.version >= stat.version) return;
      const state = await this.readState(id);
      if (!this.ctx.active) return;
      const wasPaused = known?.record.paused ?? false;
      const job: LiveJob = known ?? { record, version: stat.version, generation: 0 };
      job.record = record;
      job.version = stat.version;
      job.state = state?.state;
      job.stateVersion = state?.version;
      job.schedule = this.scheduleOf(record);
      this.jobs.set(id, job);
      if (record.paused && !wasPaused) await this.cancelFutureFires(job, 'job paused');
      await this.plan(job);
    } catch (error) {
      if (error instanceof NoNodeError) return; // deleted meanwhile: the children watch handles it
      if (!this.ctx.active || error instanceof NotLeaderError) return;
      this.ctx.logger.warn('could not load a job; retrying', { jobId: id, error: String(error) });
      setTimeout(() => void this.loadJob(id), 500);
    }
  }

  private async readState(id: string): Promise<{ state: JobState; version: number } | undefined> {
    try {
      const { data, stat } = await this.ctx.client.get(ZkLayout.jobState(id));
      return { state: decodeJson<JobState>(data), version: stat.version };
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  private scheduleOf(record: JobRecord): FireSchedule | undefined {
    try {
      return this.scheduleFor(record);
    } catch (error) {
      this.ctx.logger.error('job has an invalid schedule; it will not fire', {
        jobId: record.id,
        error: String(error),
      });
      return undefined;
    }
  }

  private async onJobDeleted(id: string): Promise<void> {
    const job = this.jobs.get(id);
    this.jobs.delete(id);
    if (!job) return;
    job.generation++;
    await this.cancelFutureFires(job, 'job deleted');
    await this.ctx.writes
      .submit({ ops: [Op.delete(ZkLayout.jobState(id))] })
      .catch(() => undefined);
  }

  /** Tasks fired ahead of an instant still to come: they must not run once the job stops. */
  private async cancelFutureFires(job: LiveJob, reason: string): Promise<void> {
    const now = this.ctx.now();
    const future = this.dispatcher
      .tasksOfJob(job.record.id)
      .filter(
        ({ record }) =>
          record.fireTime !== undefined && record.fireTime > now && record.state !== 'running',
      );
    await Promise.all(future.map(({ record }) => this.dispatcher.cancel(record.id, reason)));
  }

  // ---- firing -----------------------------------------------------------------------------

  /** Applies the misfire policy to whatever came due since the last fire, then arms the next fire. */
  private async plan(job: LiveJob): Promise<void> {
    const generation = ++job.generation;
    if (job.record.paused || !job.schedule) return;
    const now = this.ctx.now();
    const plan = planFires({
      schedule: job.schedule,
      policy: job.record.misfire,
      baseline: job.state?.lastFireAt ?? job.record.createdAt,
      now: now + this.leadOf(job),
      misfireThresholdMs: this.ctx.tuning.misfireThresholdMs + this.leadOf(job),
      fireAllCap: this.ctx.tuning.fireAllCap,
    });
    const events: AuditEvent[] = [];
    if (plan.skipped.count > 0) {
      events.push(
        this.ctx.event('task.skipped', {
          jobId: job.record.id,
          detail: { reason: 'misfire', policy: job.record.misfire, ...plan.skipped },
        }),
      );
    }
    if (plan.fire.length > 0 || events.length > 0) {
      await this.fire(job, plan.fire, plan.lastFireAt, plan.nextFireAt, events);
    }
    if (generation !== job.generation) return;
    if (plan.nextFireAt !== null) this.arm(job, plan.nextFireAt);
  }

  private arm(job: LiveJob, instant: number): void {
    this.timers.schedule(instant - this.leadOf(job), {
      jobId: job.record.id,
      instant,
      generation: job.generation,
    });
  }

  private async onTimer(entry: FireEntry): Promise<void> {
    const job = this.jobs.get(entry.jobId);
    if (!job || job.generation !== entry.generation || !this.ctx.active) return;
    const next = job.schedule?.next(entry.instant) ?? null;
    const running = this.dispatcher
      .tasksOfJob(job.record.id)
      .filter(({ record }) => !isTerminal(record.state));
    if (running.length > 0 && job.record.concurrency === 'forbid') {
      const skipped = this.ctx.event('task.skipped', {
        jobId: job.record.id,
        taskId: fireTaskId(job.record.id, entry.instant),
        detail: {
          reason: 'previous still running',
          policy: 'forbid',
          running: running.map((t) => t.record.id),
        },
      });
      await this.fire(job, [], entry.instant, next, [skipped]);
    } else {
      if (running.length > 0 && job.record.concurrency === 'replace') {
        await Promise.all(
          running.map(({ record }) =>
            this.dispatcher.cancel(record.id, 'replaced by a newer fire'),
          ),
        );
      }
      await this.fire(job, [entry.instant], entry.instant, next, []);
    }
    if (job.generation === entry.generation && next !== null) this.arm(job, next);
  }

  /**
   * Creates the tasks of `instants` and moves `lastFireAt`/`nextFireAt`, in one
   * fenced transaction. An instant already fired (NodeExists: an earlier leader
   * got there first) is dropped and the rest committed.
   */
  private async fire(
    job: LiveJob,
    instants: number[],
    lastFireAt: number | undefined,
    nextFireAt: number | null,
    extraEvents: AuditEvent[],
  ): Promise<void> {
    let pending = instants;
    for (let attempt = 0; attempt < instants.length + 3; attempt++) {
      if (this.jobs.get(job.record.id) !== job) return; // deleted meanwhile
      const now = this.ctx.now();
      const records = pending.map((instant) => this.fireRecord(job.record, instant, now));
      const state: JobState = {
        lastFireAt: lastFireAt ?? job.state?.lastFireAt,
        nextFireAt,
        jobUpdatedAt: job.record.updatedAt,
      };
      const stateOp: ZkOp =
        job.stateVersion === undefined
          ? Op.create(ZkLayout.jobState(job.record.id), encodeJson(state))
          : Op.set(ZkLayout.jobState(job.record.id), encodeJson(state), job.stateVersion);
      const events = [
        ...extraEvents,
        ...records.map((record) =>
          this.ctx.event('task.created', {
            taskId: record.id,
            jobId: job.record.id,
            detail: { fireTime: record.fireTime, type: record.type },
          }),
        ),
      ];
      try {
        await this.ctx.writes.submit({
          ops: [
            ...records.flatMap(createTaskOps),
            stateOp,
            // The job must still exist: a fire racing its deletion would leave
            // a `/jobstate` nobody deletes (and tasks of a deleted job).
            Op.check(ZkLayout.job(job.record.id)),
          ],
          events,
        });
        job.state = state;
        job.stateVersion = job.stateVersion === undefined ? 0 : job.stateVersion + 1;
        const committedAt = this.ctx.now();
        for (const instant of pending) {
          this.ctx.metrics.fired(committedAt - (instant - this.leadOf(job)));
        }
        for (const record of records) this.dispatcher.adopt(record, 0);
        return;
      } catch (error) {
        if (error instanceof NoNodeError && error.opIndex === records.length + 1) return;
        if (error instanceof NodeExistsError && (error.opIndex ?? -1) < records.length) {
          pending = pending.filter((_, i) => i !== error.opIndex);
          continue;
        }
        if (
          error instanceof BadVersionError ||
          error instanceof NodeExistsError ||
          error instanceof NoNodeError
        ) {
          // Our view of the job state is stale: read it and try again.
          try {
            const fresh = await this.readState(job.record.id);
            job.state = fresh?.state;
            job.stateVersion = fresh?.version;
          } catch (readError) {
            this.onStepFailed(job.record.id, readError);
            return;
          }
          continue;
        }
        this.onStepFailed(job.record.id, error);
        return;
      }
    }
  }

  /** A step failed for a reason other than a conflict: unless the term ended, plan the job anew. */
  private onStepFailed(jobId: string, error: unknown): void {
    if (error instanceof NotLeaderError || !this.ctx.active) return;
    this.ctx.logger.warn('job step failed; planning the job again', {
      jobId,
      error: String(error),
    });
    setTimeout(() => {
      const job = this.jobs.get(jobId);
      if (job) this.plan(job).catch((again: unknown) => this.onStepFailed(jobId, again));
    }, 500);
  }

  private fireRecord(job: JobRecord, instant: number, now: number): TaskRecord {
    return newTaskRecord(
      {
        ...jobTaskSubmission(job),
        id: fireTaskId(job.id, instant),
        fireTime: instant,
        runAt: instant,
      },
      now,
    );
  }

  private leadOf(job: LiveJob): number {
    return job.record.concurrency === 'allow' ? this.ctx.tuning.fireLeadMs : 0;
  }
}
