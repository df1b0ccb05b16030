import { Logger } from '@nestjs/common';
import { SessionExpiredError, type DoubleBarrier, type ZkClient } from '@app/zk';
import { PayloadError, type TaskContext, type TaskHandler } from '../handlers/task-handler';
import { WorkerAbortReason, type AbortKind } from './abort-reason';
import { Execution } from './execution';
import { DEFAULT_LEAVE_TIMEOUT_MS, gangBarrier, releaseGangBarrier } from './gang-barrier';
import type { Change, HeldTask } from './held-task';
import type { ReportChanges, WorkerFailure } from './report-changes';
import type { StatusReporter } from './status-reporter';
import { messageOf, storableResult, taskError } from './stored-outcome';
import { BoundTaskLogger } from './task-logger';
import type { WorkerMetrics } from './worker-metrics';

/** setTimeout's longest delay (2^31 - 1 ms, ~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

/** The registry's lookup: a handler, or an error whose message names the known types. */
export interface HandlerLookup {
  getOrThrow(type: string): TaskHandler;
}

export interface TaskRunnerOptions {
  workerId: string;
  /** Tasks run at once; the leader never assigns more, this is a local guard. */
  capacity: number;
  client: ZkClient;
  handlers: HandlerLookup;
  metrics: WorkerMetrics;
  changes: ReportChanges;
  reporter: StatusReporter;
  /** True once shutdown began: nothing new starts. */
  draining: () => boolean;
  /** The attempt is no longer this worker's (a write was refused): give it up. */
  forget: (execution: Execution) => void;
  /** Work shutdown must wait for (reports, barrier releases). */
  track: (work: Promise<void>) => void;
}

/**
 * Runs admitted attempts (protocol steps 3 and 4): waits for `runAt` and a
 * free slot, gathers a gang at its barrier, runs the handler under an
 * AbortController (timeout, cancellation, session loss, shutdown) and reports
 * the outcome through the StatusReporter. What is admitted is TaskExecutor's.
 */
export class TaskRunner {
  private readonly logger = new Logger('TaskExecutor');
  private readonly handlerLogger = new Logger('TaskHandler');
  /** Gang barriers held now: shutdown closes them rather than waiting for the others. */
  private readonly barriers = new Set<DoubleBarrier>();
  /** Due tasks beyond the local capacity, in arrival order. */
  private readonly overflow: Execution[] = [];
  /**
   * Attempts waiting for their runAt, by instant: one timer per instant, so a
   * burst (every job of a cron second) starts in one callback, before any of
   * its handlers' outcomes is reported (those run as microtasks after it).
   */
  private readonly waiting = new Map<number, { timer: NodeJS.Timeout; executions: Execution[] }>();
  private active = 0;
  private overflowReported = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: TaskRunnerOptions) {}

  /** Tasks whose handler holds a slot now. */
  get running(): number {
    return this.active;
  }

  /** The session ended: nothing queued or waiting starts. */
  clearQueued(): void {
    this.overflow.length = 0;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
  }

  /** Shutdown: nobody needs to wait for this worker at a barrier. */
  async closeBarriers(): Promise<void> {
    await Promise.allSettled([...this.barriers].map((barrier) => barrier.close()));
  }

  /** Resolves when no handler runs, or after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Runs an admitted attempt: at `runAt`, when a slot is free. */
  schedule(execution: Execution): void {
    const at = execution.record.runAt;
    if (at <= Date.now()) {
      this.begin(execution);
      return;
    }
    execution.phase = 'waiting';
    const group = this.waiting.get(at);
    if (group) group.executions.push(execution);
    else this.waiting.set(at, { timer: this.timerFor(at), executions: [execution] });
  }

  private timerFor(at: number): NodeJS.Timeout {
    return setTimeout(this.due, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS), at);
  }

  /**
   * Starts what waited for instant `at`, in one go. Timers may fire a little
   * early (loop time lags the clock): then it waits the rest. An attempt
   * settled meanwhile (cancelled, shutdown) is skipped.
   */
  private readonly due = (at: number): void => {
    const group = this.waiting.get(at);
    if (!group) return;
    if (at > Date.now()) {
      group.timer = this.timerFor(at);
      return;
    }
    this.waiting.delete(at);
    for (const execution of group.executions) if (!execution.settled) this.begin(execution);
  };

  private begin(execution: Execution): void {
    if (this.options.draining()) {
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
    metrics.started.inc(metrics.typeLabel(execution.type));
    metrics.startLateness.observe(Math.max(0, execution.startedAt - execution.record.runAt) / 1000);
    this.options.reporter.started(execution);
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
      this.options.client,
      execution.id,
      execution.attempt,
      execution.gang!.size,
      this.options.workerId,
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
        workerId: this.options.workerId,
        type: execution.type,
      }),
      ...(gang ? { gang: { size: gang.size, index: gang.index } } : {}),
    };
  }

  private succeed(execution: Execution, result: unknown): void {
    if (execution.settled) return;
    this.settle(execution, true);
    this.options.metrics.succeeded.inc(this.options.metrics.typeLabel(execution.type));
    this.report(execution, this.options.changes.succeeded(execution, storableResult(result)));
  }

  private fail(execution: Execution, failure: WorkerFailure): void {
    if (execution.settled) return;
    this.settle(execution, false);
    this.options.metrics.failed.inc(this.options.metrics.typeLabel(execution.type));
    this.report(execution, this.options.changes.failed(execution, failure));
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
  abort(execution: Execution, kind: AbortKind): void {
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
        this.options.metrics.failed.inc(this.options.metrics.typeLabel(execution.type));
        this.report(
          execution,
          this.options.changes.failed(execution, {
            error: { code: 'timeout', message },
            timedOut: true,
            final: false,
          }),
        );
        return;
      }
      case 'shutdown':
        this.report(execution, this.options.changes.handedBack(execution));
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
    clearTimeout(execution.timeoutTimer);
    const wasStarted = execution.slot;
    execution.phase = 'finishing';
    if (execution.barrier) this.releaseBarrier(execution, succeeded);
    if (!wasStarted) return;
    const { metrics } = this.options;
    metrics.handlerDuration.observe(
      metrics.typeLabel(execution.type),
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
    this.options.track(
      releaseGangBarrier(
        this.options.client,
        barrier,
        execution.id,
        execution.attempt,
        leave,
        left,
      ).finally(() => this.barriers.delete(barrier)),
    );
  }

  private report(execution: Execution, change: Change): void {
    this.options.track(
      this.options.reporter.finish(execution, change).then(
        (outcome) => {
          if (outcome === 'written') execution.phase = 'done';
          else if (outcome === 'stale') this.options.forget(execution);
        },
        (error: unknown) => {
          this.logger.error({
            msg: 'task report failed',
            taskId: execution.id,
            error: messageOf(error),
          });
          this.options.forget(execution);
        },
      ),
    );
  }

  /** A `running` write was rejected: someone else moved the task; stop it. */
  onStartRejected(task: HeldTask): void {
    const execution = task as Execution;
    if (!execution.settled) {
      this.settle(execution, false);
      execution.controller.abort(
        new WorkerAbortReason('cancelled', 'the task changed under this worker (stale version)'),
      );
    }
    this.options.forget(execution);
  }
}
