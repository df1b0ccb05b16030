import { Logger } from '@nestjs/common';
import {
  ClientClosedError,
  NoNodeError,
  type DoubleBarrier,
  SessionExpiredError,
  type WatchEvent,
  type ZkClient,
} from '@app/zk';
import { ZkLayout, type Assignment, type TaskRecord } from '@app/contracts';
import { TaskWrites, type AuditWriter, type WriteBatcher } from '@app/store';
import { PayloadError, type TaskContext, type TaskHandler } from '../handlers/task-handler';
import { WorkerAbortReason, type AbortKind } from './abort-reason';
import { admit, parseAssignment } from './admission';
import { Execution, IGNORED, type Marker } from './execution';
import { DEFAULT_LEAVE_TIMEOUT_MS, gangBarrier, releaseGangBarrier } from './gang-barrier';
import type { Change, GangPlace, HeldTask } from './held-task';
import { ReportChanges, type WorkerFailure } from './report-changes';
import { StatusReporter } from './status-reporter';
import { BoundTaskLogger } from './task-logger';
import { messageOf, storableResult, taskError } from './stored-outcome';
import type { WorkerMetrics } from './worker-metrics';

/** setTimeout's longest delay (2^31 - 1 ms, ~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

/** The registry's lookup: a handler, or an error whose message names the known types. */
export interface HandlerLookup {
  getOrThrow(type: string): TaskHandler;
}

export interface TaskExecutorOptions {
  workerId: string;
  /** Tasks run at once; the leader never assigns more, this is a local guard. */
  capacity: number;
  client: ZkClient;
  writes: WriteBatcher;
  audit: AuditWriter;
  handlers: HandlerLookup;
  metrics: WorkerMetrics;
  /** Asks the assignment watcher for a fresh listing. */
  relist: () => void;
}

/**
 * Runs what `/assign/<me>` holds (protocol steps 3, 4, 9): reads each new
 * assignment, admits it when the protocol allows, waits for `runAt`, runs the
 * handler under an AbortController (timeout, cancellation, session loss,
 * shutdown) and reports the outcome through the StatusReporter.
 *
 * Every assignment listed is in `entries` until a listing no longer shows it:
 * an Execution, or a Marker (being read / not ours to run). An assignment
 * that vanishes while its task runs aborts the handler (`cancelled`); each one
 * admitted also carries a data watch (set by the read that admits it, so no
 * extra request), which notices a deletion even when the leader re-creates
 * the node before the next listing.
 */
export class TaskExecutor {
  private readonly logger = new Logger(TaskExecutor.name);
  private readonly handlerLogger = new Logger('TaskHandler');
  private readonly entries = new Map<string, Execution | Marker>();
  /**
   * Attempts this worker gave up (session lost, status write rejected): never
   * run again, even if their assignment is still listed; only a new attempt is.
   */
  private readonly givenUp = new Map<string, number>();
  /** Ids in `givenUp` whose attempt was given up on a session that has ended since. */
  private readonly givenUpOnLostSession = new Set<string>();
  /** Gang barriers held now: shutdown closes them rather than waiting for the others. */
  private readonly barriers = new Set<DoubleBarrier>();
  /** Due tasks beyond the local capacity, in arrival order. */
  private readonly overflow: Execution[] = [];
  private active = 0;
  private overflowReported = false;
  private draining = false;
  /** Admissions and reports in progress: shutdown waits for them. */
  private readonly inflight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private readonly changes: ReportChanges;
  private readonly reporter: StatusReporter;
  private readonly tasks: TaskWrites;
  private readonly workerId: string;
  private readonly client: ZkClient;

  constructor(private readonly options: TaskExecutorOptions) {
    this.workerId = options.workerId;
    this.client = options.client;
    this.changes = new ReportChanges(options.audit, options.workerId);
    this.tasks = new TaskWrites(options.client, options.writes);
    this.reporter = new StatusReporter(this.tasks, this.changes, options.workerId, (task) =>
      this.onStartRejected(task),
    );
  }

  /** Tasks whose handler holds a slot now. */
  get running(): number {
    return this.active;
  }

  /** Attempts admitted and not settled: waiting for runAt, queued or running. */
  get held(): number {
    let count = 0;
    for (const entry of this.entries.values()) {
      if (entry instanceof Execution && !entry.settled) count++;
    }
    return count;
  }

  /** Diffs a listing of `/assign/<me>` against what this worker holds. */
  onListing(children: readonly string[]): void {
    const present = new Set(children);
    for (const [id, entry] of this.entries) {
      if (!present.has(id)) this.vanished(id, entry);
    }
    for (const id of children) {
      if (!this.entries.has(id)) this.track(this.admit(id));
    }
  }

  /** The session ended: every task is given up; the leader reassigns them. */
  dropAll(): void {
    let dropped = 0;
    for (const [id, entry] of this.entries) {
      if (!(entry instanceof Execution)) {
        // Still being read: kept, so the read's answer is taken as given up
        // and the next session's listing does not admit it afresh.
        if (entry.kind === 'admitting') entry.dropped = true;
        else this.entries.delete(id);
        continue;
      }
      if (!entry.settled) {
        this.abort(entry, 'session_lost');
        dropped++;
      }
      entry.dropped = true;
      this.givenUp.set(entry.id, entry.attempt);
      this.entries.delete(id);
    }
    this.overflow.length = 0;
    for (const id of this.givenUp.keys()) this.givenUpOnLostSession.add(id);
    if (dropped > 0) {
      this.logger.warn({ msg: 'ZooKeeper session lost: aborted every task held', dropped });
    }
  }

  /**
   * Shutdown: nothing new starts; tasks not started yet go back at once;
   * running ones get `graceMs` to finish, then are aborted and handed back.
   * Resolves when every write is done.
   */
  async drain(graceMs: number): Promise<{ handedBack: number }> {
    this.draining = true;
    let handedBack = 0;
    for (const entry of this.entries.values()) {
      if (entry instanceof Execution && !entry.settled && !entry.slot) {
        this.abort(entry, 'shutdown');
        handedBack++;
      }
    }
    await this.whenIdle(graceMs);
    for (const entry of this.entries.values()) {
      if (entry instanceof Execution && !entry.settled) {
        this.abort(entry, 'shutdown');
        handedBack++;
      }
    }
    // The session closes next: nobody needs to wait for this worker at a barrier.
    await Promise.allSettled([...this.barriers].map((barrier) => barrier.close()));
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    return { handedBack };
  }

  // ---- admission ---------------------------------------------------------------------

  private async admit(id: string, dropped = false): Promise<void> {
    const ticket: Marker = { kind: 'admitting', dropped };
    this.entries.set(id, ticket);
    let parsed: Assignment | undefined;
    let record: TaskRecord;
    let version: number;
    try {
      const assignment = await this.client.get(
        ZkLayout.assignment(this.workerId, id),
        this.onAssignmentEvent,
      );
      if (this.entries.get(id) !== ticket) return; // vanished, or the session ended, meanwhile
      parsed = parseAssignment(assignment.data);
      if (parsed === undefined) {
        this.ignore(id, 'the assignment holds no attempt number');
        return;
      }
      // The assignment carries the record as assigned, valid while it exists; a
      // gang's record moves with its other members, so a gang member reads it.
      if (parsed.record && parsed.taskVersion !== undefined && parsed.record.parallelism <= 1) {
        record = parsed.record;
        version = parsed.taskVersion;
      } else {
        const task = await this.tasks.read(id);
        if (this.entries.get(id) !== ticket) return;
        if (task === undefined) {
          this.ignore(id, 'the task node does not exist');
          return;
        }
        ({ record, version } = task);
      }
    } catch (error) {
      if (this.entries.get(id) !== ticket) return;
      if (error instanceof SyntaxError) {
        this.ignore(id, 'the task record is not JSON');
      } else if (error instanceof NoNodeError) {
        this.entries.delete(id); // the assignment went already
        this.givenUp.delete(id);
        this.givenUpOnLostSession.delete(id);
      } else if (error instanceof ClientClosedError) {
        this.entries.delete(id);
      } else if (ticket.dropped) {
        // Its attempt is still to be learnt (and given up): read again, on the next session.
        setTimeout(() => {
          if (this.entries.get(id) === ticket) this.track(this.admit(id, true));
        }, 500).unref();
      } else if (error instanceof SessionExpiredError) {
        // `lost` is on its way: its dropAll and the next session's listing take over.
        this.entries.delete(id);
      } else {
        this.logger.warn({
          msg: 'could not read an assignment; trying again',
          taskId: id,
          error: messageOf(error),
        });
        this.entries.delete(id);
        setTimeout(this.options.relist, 500).unref();
      }
      return;
    }
    if (ticket.dropped) {
      this.givenUp.set(id, parsed.attempt);
      this.ignore(id, `attempt ${parsed.attempt} was assigned to a lost session; handing it back`);
      this.track(this.handBackGivenUp(id, parsed.attempt));
      return;
    }
    if (this.givenUp.get(id) === record.attempt) {
      if (!this.givenUpOnLostSession.has(id)) {
        this.ignore(id, `attempt ${record.attempt} was given up by this worker`);
        return;
      }
      this.ignore(
        id,
        `attempt ${record.attempt} was given up with a lost session; handing it back`,
      );
      this.track(this.handBackGivenUp(id, record.attempt));
      return;
    }
    const verdict = admit(record, parsed, this.workerId);
    if (!verdict.ok) {
      this.ignore(id, verdict.reason);
      return;
    }
    const execution = new Execution(record, version, verdict.gang);
    this.entries.set(id, execution);
    if (this.draining) {
      this.abort(execution, 'shutdown');
      return;
    }
    this.schedule(execution);
  }

  /**
   * An attempt this worker gave up when its session ended, whose assignment is
   * still there in the next session: the leader may never move it (a leader
   * elected after this worker registered again sees it live, holding the
   * task, and nothing tells it otherwise), so the worker hands it back itself
   * (step 9). A compare-and-set on the record read now: if the leader moved
   * the task meanwhile, the write is refused and changes nothing. A gang
   * member hands back the whole gang attempt, as a draining member does.
   */
  private async handBackGivenUp(id: string, attempt: number): Promise<void> {
    let found;
    try {
      found = await this.tasks.read(id);
    } catch {
      return; // unreadable now: the leader's business again
    }
    if (found === undefined) return; // gone
    const { record, version } = found;
    if (record.attempt !== attempt || !(record.state === 'assigned' || record.state === 'running'))
      return;
    let gang: GangPlace | undefined;
    if (record.parallelism > 1) {
      // A gang member whose own outcome never landed: the whole attempt goes
      // back (its other members' successes do not make the gang's).
      const workers = record.workers ?? [];
      const index = workers.indexOf(this.workerId);
      const own = record.members?.[this.workerId]?.state;
      if (index < 0 || own === 'succeeded' || own === 'failed') return;
      gang = { size: workers.length, index, workers };
    } else if (record.workerId !== this.workerId) {
      return;
    }
    const task = new Execution(record, version, gang);
    await this.reporter.finish(
      task,
      this.changes.handedBack(task, 'given up when its ZooKeeper session ended'),
    );
  }

  private ignore(id: string, reason: string): void {
    this.entries.set(id, IGNORED);
    this.logger.log({ msg: 'ignoring an assignment', taskId: id, reason });
  }

  private vanished(id: string, entry: Execution | Marker): void {
    this.entries.delete(id);
    this.givenUp.delete(id);
    this.givenUpOnLostSession.delete(id);
    if (entry instanceof Execution && !entry.settled) this.abort(entry, 'cancelled');
  }

  /**
   * The data watch of an admitted assignment: fires when it is deleted. The
   * entry goes at once, so a node re-created under the same name before the
   * next listing (the children watch fires for both) is read as a new one.
   */
  private readonly onAssignmentEvent = (event: WatchEvent): void => {
    if (event.type !== 'deleted') return;
    const id = event.path.slice(event.path.lastIndexOf('/') + 1);
    const entry = this.entries.get(id);
    if (entry !== undefined) this.vanished(id, entry);
  };

  // ---- running -----------------------------------------------------------------------

  private schedule(execution: Execution): void {
    const delay = execution.record.runAt - Date.now();
    if (delay > 0) {
      execution.phase = 'waiting';
      execution.runAtTimer = setTimeout(this.due, Math.min(delay, MAX_TIMER_MS), execution);
    } else {
      this.begin(execution);
    }
  }

  /** Timers may fire a little early (loop time lags the clock): check, and wait the rest. */
  private readonly due = (execution: Execution): void => {
    execution.runAtTimer = undefined;
    if (execution.settled) return;
    const left = execution.record.runAt - Date.now();
    if (left > 0)
      execution.runAtTimer = setTimeout(this.due, Math.min(left, MAX_TIMER_MS), execution);
    else this.begin(execution);
  };

  private begin(execution: Execution): void {
    if (this.draining) {
      this.abort(execution, 'shutdown');
      return;
    }
    if (this.active >= this.options.capacity) {
      execution.phase = 'queued';
      this.overflow.push(execution);
      if (!this.overflowReported) {
        this.overflowReported = true;
        this.logger.warn({
          msg: 'more tasks assigned than the capacity: the excess waits for a free slot',
          capacity: this.options.capacity,
          taskId: execution.id,
        });
      }
      return;
    }
    const { metrics } = this.options;
    this.active++;
    execution.slot = true;
    metrics.running.inc();
    execution.startedAt = Date.now();
    metrics.started.inc({ type: execution.type });
    metrics.startLateness.observe(Math.max(0, execution.startedAt - execution.record.runAt) / 1000);
    this.reporter.started(execution);
    const timeoutMs = execution.record.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      execution.timeoutTimer = setTimeout(
        this.timedOut,
        Math.min(timeoutMs, MAX_TIMER_MS),
        execution,
      );
    }
    if (execution.gang) {
      execution.phase = 'gathering';
      void this.gatherThenRun(execution);
    } else {
      execution.phase = 'running';
      this.run(execution);
    }
  }

  private async gatherThenRun(execution: Execution): Promise<void> {
    // Held before entering, so that an abort (timeout included) can end the wait.
    const barrier = gangBarrier(
      this.client,
      execution.id,
      execution.attempt,
      execution.gang!.size,
      this.workerId,
    );
    execution.barrier = barrier;
    this.barriers.add(barrier);
    try {
      await barrier.start();
      await barrier.enter();
    } catch (error) {
      // Aborted meanwhile (closing the barrier ends the wait), or the session went.
      if (execution.settled || error instanceof SessionExpiredError) return;
      this.fail(execution, { error: taskError('barrier', error), timedOut: false, final: false });
      return;
    }
    if (execution.settled) return;
    execution.phase = 'running';
    this.run(execution);
  }

  private run(execution: Execution): void {
    let handler: TaskHandler;
    try {
      handler = this.options.handlers.getOrThrow(execution.type);
    } catch (error) {
      // Nothing a retry on this worker could change.
      this.fail(execution, {
        error: taskError('unknown_type', error),
        timedOut: false,
        final: true,
      });
      return;
    }
    let payload: unknown;
    try {
      payload = handler.parse(execution.record.payload);
    } catch (error) {
      // A payload the handler refuses is refused again on every attempt: fail for good.
      const badPayload = error instanceof PayloadError;
      this.fail(execution, {
        error: taskError(badPayload ? 'payload' : 'handler', error),
        timedOut: false,
        final: badPayload,
      });
      return;
    }
    let outcome: Promise<unknown>;
    try {
      // Promise.resolve: a handler that breaks its contract and returns a value still works.
      outcome = Promise.resolve(handler.run(payload, this.contextOf(execution)));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (result) => this.succeed(execution, result),
      (error: unknown) =>
        this.fail(execution, {
          error: taskError('handler', error),
          timedOut: false,
          final: false,
        }),
    );
  }

  private contextOf(execution: Execution): TaskContext {
    const { record, gang } = execution;
    return {
      taskId: execution.id,
      ...(execution.jobId === undefined ? {} : { jobId: execution.jobId }),
      attempt: execution.attempt,
      idempotencyKey: record.idempotencyKey ?? record.id,
      signal: execution.controller.signal,
      // Every line a handler logs names the task, its job, the attempt and this worker.
      logger: new BoundTaskLogger(this.handlerLogger, {
        taskId: execution.id,
        ...(execution.jobId === undefined ? {} : { jobId: execution.jobId }),
        attempt: execution.attempt,
        workerId: this.workerId,
        type: execution.type,
      }),
      ...(gang ? { gang: { size: gang.size, index: gang.index } } : {}),
    };
  }

  private succeed(execution: Execution, result: unknown): void {
    if (execution.settled) return;
    this.settle(execution, true);
    this.options.metrics.succeeded.inc({ type: execution.type });
    this.report(execution, this.changes.succeeded(execution, storableResult(result)));
  }

  private fail(execution: Execution, failure: WorkerFailure): void {
    if (execution.settled) return;
    this.settle(execution, false);
    this.options.metrics.failed.inc({ type: execution.type });
    this.report(execution, this.changes.failed(execution, failure));
  }

  private readonly timedOut = (execution: Execution): void => {
    execution.timeoutTimer = undefined;
    const left = execution.startedAt + (execution.record.timeoutMs ?? 0) - Date.now();
    if (left > 0) {
      execution.timeoutTimer = setTimeout(this.timedOut, Math.min(left, MAX_TIMER_MS), execution);
      return;
    }
    this.abort(execution, 'timeout');
  };

  /** Ends an attempt from outside the handler; what is written depends on why. */
  private abort(execution: Execution, kind: AbortKind): void {
    if (execution.settled) return;
    const phase = execution.phase;
    this.settle(execution, false);
    execution.controller.abort(new WorkerAbortReason(kind));
    switch (kind) {
      case 'timeout': {
        const ms = execution.record.timeoutMs;
        const message =
          phase === 'gathering'
            ? `timed out after ${ms} ms waiting for the gang of ${execution.gang?.size} at the barrier`
            : `timed out after ${ms} ms`;
        this.options.metrics.failed.inc({ type: execution.type });
        this.report(
          execution,
          this.changes.failed(execution, {
            error: { code: 'timeout', message },
            timedOut: true,
            final: false,
          }),
        );
        return;
      }
      case 'shutdown':
        this.report(execution, this.changes.handedBack(execution));
        return;
      case 'cancelled':
      case 'session_lost':
        // The assignment (or the session) is gone: nothing this worker writes would land.
        execution.dropped = true;
        this.logger.log({
          msg: 'task aborted and dropped',
          taskId: execution.id,
          attempt: execution.attempt,
          reason: kind,
        });
    }
  }

  /** The outcome is decided: timers off, slot free, barrier released. */
  private settle(execution: Execution, succeeded: boolean): void {
    execution.settled = true;
    clearTimeout(execution.runAtTimer);
    clearTimeout(execution.timeoutTimer);
    const wasStarted = execution.slot;
    execution.phase = 'finishing';
    if (execution.barrier) this.releaseBarrier(execution, succeeded);
    if (!wasStarted) return;
    const { metrics } = this.options;
    metrics.handlerDuration.observe(
      { type: execution.type },
      (Date.now() - execution.startedAt) / 1000,
    );
    execution.slot = false;
    this.active--;
    metrics.running.dec();
    this.startQueued();
    if (this.active === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private startQueued(): void {
    while (this.active < this.options.capacity && this.overflow.length > 0) {
      const next = this.overflow.shift()!;
      if (!next.settled && !next.dropped) this.begin(next);
    }
    if (this.overflow.length === 0) this.overflowReported = false;
  }

  private releaseBarrier(execution: Execution, leave: boolean): void {
    const barrier = execution.barrier!;
    execution.barrier = undefined;
    const timeoutMs = execution.record.timeoutMs;
    const left =
      timeoutMs === undefined
        ? DEFAULT_LEAVE_TIMEOUT_MS
        : Math.max(1, execution.startedAt + timeoutMs - Date.now());
    this.track(
      releaseGangBarrier(
        this.client,
        barrier,
        execution.id,
        execution.attempt,
        leave,
        left,
      ).finally(() => this.barriers.delete(barrier)),
    );
  }

  // ---- reporting ---------------------------------------------------------------------

  private report(execution: Execution, change: Change): void {
    this.track(
      this.reporter.finish(execution, change).then(
        (outcome) => {
          if (outcome === 'written') execution.phase = 'done';
          else if (outcome === 'stale') this.forget(execution);
        },
        (error: unknown) => {
          this.logger.error({
            msg: 'task report failed',
            taskId: execution.id,
            error: messageOf(error),
          });
          this.forget(execution);
        },
      ),
    );
  }

  /** A `running` write was rejected: someone else moved the task; stop it. */
  private onStartRejected(task: HeldTask): void {
    const execution = task as Execution;
    if (!execution.settled) {
      this.settle(execution, false);
      execution.controller.abort(
        new WorkerAbortReason('cancelled', 'the task changed under this worker (stale version)'),
      );
    }
    this.forget(execution);
  }

  /** Stale: give the attempt up; its assignment is looked at afresh (a new attempt may be there). */
  private forget(execution: Execution): void {
    execution.dropped = true;
    this.givenUp.set(execution.id, execution.attempt);
    if (this.entries.get(execution.id) === execution) {
      this.entries.delete(execution.id);
      this.options.relist();
    }
  }

  private whenIdle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private track(work: Promise<void>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }
}
