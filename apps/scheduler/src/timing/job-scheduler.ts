import { BadVersionError, NoNodeError, NodeExistsError, NotLeaderError, Op } from '@app/zk';
import { ZkLayout, fireTaskId, isTerminal, type AuditEvent } from '@app/contracts';
import type { CatalogEntry } from '../catalog/catalog-entry';
import type { JobCatalog } from '../catalog/job-catalog';
import type { Dispatcher } from '../dispatch/dispatcher';
import type { LiveTask } from '../dispatch/live-tasks';
import { Timers } from '../dispatch/timers';
import type { LeaderContext } from '../leadership/leader-context';
import { applyConcurrency } from './concurrency';
import { buildFireWrite, readJobState, readTemplate } from './fire-write';
import { planFires, type FirePlan } from './fire-plan';
import type { FireSchedule } from './fire-schedule';
import type { ScheduleFactory } from './schedule-factory';

interface FireEntry {
  entry: CatalogEntry;
  instant: number;
  generation: number;
}

/**
 * The leader's clock for jobs: one timer per job for its next instant, armed
 * from the replica's warm job view (JobCatalog) when elected, without reading
 * the jobs or parsing their schedules. Only jobs due around the hand-over
 * (within the fire lead) are planned in full: the misfire policy decides what
 * to fire of the instants missed while no leader ran.
 *
 * A fire creates the task with the deterministic id `<jobId>@<instant>` (a
 * second leader re-firing the same instant gets NodeExists, invariant 1) and
 * records `lastFireAt`/`nextFireAt` in the same fenced transaction, with its
 * job change note. Fires of `allow` jobs happen `fireLeadMs` ahead so that
 * workers start on the instant; `forbid`/`replace` decide at the instant, once
 * the dispatcher knows the live tasks (`tasksLoaded`).
 */
export class JobScheduler {
  private readonly timers: Timers<FireEntry>;
  private planning = false;
  private collector: NodeJS.Timeout | undefined;
  private readonly onChanged = (entry: CatalogEntry): void => {
    if (this.planning) this.onJobChanged(entry);
  };
  private readonly onDeleted = (entry: CatalogEntry): void => {
    if (this.planning) void this.onJobDeleted(entry);
  };
  private readonly onRebuilt = (): void => {
    if (this.planning) this.planAll();
  };

  constructor(
    private readonly ctx: LeaderContext,
    private readonly dispatcher: Dispatcher,
    private readonly catalog: JobCatalog,
    private readonly scheduleFor: ScheduleFactory,
    /** Resolves once the dispatcher has loaded the live tasks (it starts beside this). */
    private readonly tasksLoaded: Promise<void>,
  ) {
    this.timers = new Timers((fire) => {
      this.onTimer(fire).catch((error: unknown) => this.onStepFailed(fire.entry, error));
    }, ctx.now);
  }

  /**
   * Arms every job from memory once the job view has caught up with the change
   * log (the previous leader is fenced, so its last state writes are in it).
   * Does not wait for that: a view that cannot catch up (no quorum, a
   * rebuild) must not hold the term's start or its end.
   */
  start(): void {
    this.catalog.on('changed', this.onChanged);
    this.catalog.on('deleted', this.onDeleted);
    this.catalog.on('rebuilt', this.onRebuilt);
    void this.armWhenCurrent();
    const retention = this.ctx.tuning.jobChangesRetentionMs;
    this.collector = setInterval(() => void this.collectChanges(), Math.max(1_000, retention / 3));
  }

  close(): void {
    this.planning = false;
    clearInterval(this.collector);
    this.catalog.off('changed', this.onChanged);
    this.catalog.off('deleted', this.onDeleted);
    this.catalog.off('rebuilt', this.onRebuilt);
    this.timers.stop();
  }

  // ---- knowing the jobs ----------------------------------------------------------------

  private async armWhenCurrent(): Promise<void> {
    for (;;) {
      try {
        await this.catalog.catchUp();
        break;
      } catch (error) {
        if (!this.ctx.active) return;
        this.ctx.logger.warn('the job view cannot catch up yet; retrying', {
          error: String(error),
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    if (!this.ctx.active) return;
    this.planning = true;
    this.planAll();
  }

  private planAll(): void {
    const now = this.ctx.now();
    for (const entry of this.catalog.values()) this.arrange(entry, now);
  }

  /**
   * Arms the job's timer from its due instant when that is still ahead (nothing
   * was missed: what a full plan would decide too); plans it in full otherwise.
   */
  private arrange(entry: CatalogEntry, now: number): void {
    const due = entry.dueAt;
    if (!entry.paused && due - this.leadOf(entry) > now) {
      const generation = ++entry.generation;
      this.arm(entry, due, generation);
      return;
    }
    this.plan(entry).catch((error: unknown) => this.onStepFailed(entry, error));
  }

  private onJobChanged(entry: CatalogEntry): void {
    if (entry.paused) void this.cancelFutureFires(entry, 'job paused');
    this.arrange(entry, this.ctx.now());
  }

  private async onJobDeleted(entry: CatalogEntry): Promise<void> {
    entry.generation++;
    await this.cancelFutureFires(entry, 'job deleted');
    // The API deletes the state with the job, unless the state was made after it read the job.
    if (entry.stateVersion < 0 || !(await this.ctx.client.exists(ZkLayout.jobState(entry.id))))
      return;
    await this.ctx.writes
      .submit({ ops: [Op.delete(ZkLayout.jobState(entry.id))] })
      .catch(() => undefined);
  }

  /** Tasks fired ahead of an instant still to come: they must not run once the job stops. */
  private async cancelFutureFires(entry: CatalogEntry, reason: string): Promise<void> {
    const now = this.ctx.now();
    const future = (await this.liveTasksOf(entry)).filter(
      ({ record }) =>
        record.fireTime !== undefined && record.fireTime > now && record.state !== 'running',
    );
    await Promise.all(future.map(({ record }) => this.dispatcher.cancel(record.id, reason)));
  }

  private async liveTasksOf(entry: CatalogEntry): Promise<LiveTask[]> {
    await this.tasksLoaded;
    return this.dispatcher.tasksOfJob(entry.id).filter(({ record }) => !isTerminal(record.state));
  }

  private scheduleOf(entry: CatalogEntry): FireSchedule | undefined {
    try {
      return this.scheduleFor(entry);
    } catch (error) {
      this.ctx.logger.error('job has an invalid schedule; it will not fire', {
        jobId: entry.id,
        error: String(error),
      });
      return undefined;
    }
  }

  // ---- firing -----------------------------------------------------------------------------

  /** Applies the misfire policy to whatever came due since the last fire, then arms the next fire. */
  private async plan(entry: CatalogEntry): Promise<void> {
    const generation = ++entry.generation;
    if (entry.paused) return;
    const schedule = this.scheduleOf(entry);
    if (!schedule) return;
    const lead = this.leadOf(entry);
    const plan = planFires({
      schedule,
      policy: entry.misfire,
      baseline: entry.state?.lastFireAt ?? entry.createdAt,
      now: this.ctx.now() + lead,
      misfireThresholdMs: this.ctx.tuning.misfireThresholdMs + lead,
      fireAllCap: this.ctx.tuning.fireAllCap,
    });
    const events: AuditEvent[] = [];
    if (plan.skipped.count > 0) {
      events.push(
        this.ctx.event('task.skipped', {
          jobId: entry.id,
          detail: { reason: 'misfire', policy: entry.misfire, ...plan.skipped },
        }),
      );
    }
    const fire = await this.withConcurrency(entry, plan, events);
    if (generation !== entry.generation) return;
    if (fire.length > 0 || events.length > 0) {
      await this.fire(entry, fire, plan.lastFireAt, plan.nextFireAt, events);
    }
    if (generation !== entry.generation) return;
    if (plan.nextFireAt !== null) this.arm(entry, plan.nextFireAt, generation);
  }

  /** The instants of a plan the job's concurrency policy lets fire; skip events for the others. */
  private async withConcurrency(
    entry: CatalogEntry,
    plan: FirePlan,
    events: AuditEvent[],
  ): Promise<number[]> {
    if (entry.concurrency === 'allow' || plan.fire.length === 0) return plan.fire;
    const running = await this.liveTasksOf(entry);
    const { fire, skipped, reason } = applyConcurrency(
      entry.concurrency,
      plan.fire,
      running.length,
    );
    // One event per instant, as a skip at the instant itself is recorded (at most fireAllCap).
    for (const instant of skipped) {
      events.push(
        this.ctx.event('task.skipped', {
          jobId: entry.id,
          taskId: fireTaskId(entry.id, instant),
          detail: {
            reason,
            policy: entry.concurrency,
            ...(fire.length === 0 ? { running: running.map((t) => t.record.id) } : {}),
          },
        }),
      );
    }
    if (entry.concurrency === 'replace' && fire.length > 0) await this.replace(running);
    return fire;
  }

  private arm(entry: CatalogEntry, instant: number, generation: number): void {
    this.timers.schedule(instant - this.leadOf(entry), { entry, instant, generation });
  }

  private async onTimer({ entry, instant, generation }: FireEntry): Promise<void> {
    if (!this.isCurrent(entry, generation)) return;
    const next = this.scheduleOf(entry)?.next(instant) ?? null;
    if (entry.concurrency === 'allow') {
      await this.fire(entry, [instant], instant, next, []);
    } else {
      const running = await this.liveTasksOf(entry);
      if (!this.isCurrent(entry, generation)) return;
      if (running.length > 0 && entry.concurrency === 'forbid') {
        const skipped = this.ctx.event('task.skipped', {
          jobId: entry.id,
          taskId: fireTaskId(entry.id, instant),
          detail: {
            reason: 'previous still running',
            policy: 'forbid',
            running: running.map((t) => t.record.id),
          },
        });
        await this.fire(entry, [], instant, next, [skipped]);
      } else {
        await this.replace(running);
        await this.fire(entry, [instant], instant, next, []);
      }
    }
    if (entry.generation === generation && next !== null) this.arm(entry, next, generation);
  }

  private isCurrent(entry: CatalogEntry, generation: number): boolean {
    return (
      entry.generation === generation && this.catalog.get(entry.id) === entry && this.ctx.active
    );
  }

  private async replace(running: readonly LiveTask[]): Promise<void> {
    await Promise.all(
      running.map(({ record }) => this.dispatcher.cancel(record.id, 'replaced by a newer fire')),
    );
  }

  /**
   * Creates the tasks of `instants` and moves `lastFireAt`/`nextFireAt`, in one
   * fenced transaction. An instant already fired (NodeExists: an earlier leader
   * got there first) is dropped and the rest committed.
   */
  private async fire(
    entry: CatalogEntry,
    instants: number[],
    lastFireAt: number | undefined,
    nextFireAt: number | null,
    extraEvents: AuditEvent[],
  ): Promise<void> {
    const template = instants.length > 0 ? await readTemplate(this.ctx.client, entry) : undefined;
    if (instants.length > 0 && !template) return; // deleted meanwhile
    let pending = instants;
    for (let attempt = 0; attempt < instants.length + 3; attempt++) {
      if (this.catalog.get(entry.id) !== entry) return; // deleted meanwhile
      const now = this.ctx.now();
      const { records, state, stateVersion, ops, events } = buildFireWrite(
        entry,
        template,
        pending,
        lastFireAt,
        nextFireAt,
        extraEvents,
        this.ctx.event,
        now,
      );
      try {
        await this.ctx.writes.submit({
          ops,
          events,
          jobChanges: [{ stateOf: entry.id, version: stateVersion + 1, state }],
        });
        this.catalog.record({ stateOf: entry.id, version: stateVersion + 1, state });
        const committedAt = this.ctx.now();
        for (const instant of pending) {
          this.ctx.metrics.fired(committedAt - (instant - this.leadOf(entry)));
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
            this.catalog.replaceState(entry.id, await readJobState(this.ctx.client, entry.id));
          } catch (readError) {
            this.onStepFailed(entry, readError);
            return;
          }
          continue;
        }
        this.onStepFailed(entry, error);
        return;
      }
    }
  }

  /** A step failed for a reason other than a conflict: unless the term ended, plan the job anew. */
  private onStepFailed(entry: CatalogEntry, error: unknown): void {
    if (error instanceof NotLeaderError || !this.ctx.active) return;
    this.ctx.logger.warn('job step failed; planning the job again', {
      jobId: entry.id,
      error: String(error),
    });
    setTimeout(() => {
      if (this.catalog.get(entry.id) === entry && this.planning)
        this.plan(entry).catch((again: unknown) => this.onStepFailed(entry, again));
    }, 500);
  }

  /** Deletes the job change notes every replica has had time to read (fenced, like every leader write). */
  private async collectChanges(): Promise<void> {
    try {
      await this.catalog.collectChanges(this.ctx.tuning.jobChangesRetentionMs, (ops) =>
        this.ctx.writes.submit({ ops }),
      );
    } catch (error) {
      if (error instanceof NotLeaderError || !this.ctx.active) return;
      this.ctx.logger.warn('could not collect job change notes', { error: String(error) });
    }
  }

  private leadOf(entry: CatalogEntry): number {
    return entry.concurrency === 'allow' ? this.ctx.tuning.fireLeadMs : 0;
  }
}
