import { NotLeaderError, Op, isConnectionProblem, isRetryable } from '@app/zk';
import {
  ZkLayout,
  isTerminal,
  type AuditEvent,
  type QueueNote,
  type TaskRecord,
  type TaskState,
} from '@app/contracts';
import {
  attemptFailedEvents,
  cancelledEvent,
  holdersOf,
  taskEvent,
  toAssigned,
  toCancelled,
  toFailedAttempt,
  toPending,
  type CommitOutcome,
  type Placement,
} from '@app/store';
import type { LeaderContext } from '../leadership/leader-context';
import { deadlineOf, nextStep } from './next-step';
import { Timers } from './timers';
import { LiveTasks, type LiveTask } from './live-tasks';
import { QueueIntake } from './queue-intake';
import { WorkerPool, type PoolWorker } from './worker-pool';
import { WorkerTracker } from './worker-tracker';
import { WorkerDepartures } from './worker-departures';

type TimerKind = 'due' | 'deadline';
type TimerEntry =
  | { kind: TimerKind; id: string }
  /** Assignments that vanished: read the tasks no queue note has explained by then. */
  | { kind: 'sweep'; workerId: string; ids: string[] };

const READ_CHUNK = 1_000;
/**
 * How long a vanished assignment waits for the queue note of the write that
 * deleted it (the same transaction: it is normally read within milliseconds)
 * before the leader reads the task itself: a writer that sent no note.
 */
const NOTE_GRACE_MS = 2_000;

/**
 * The leader's task engine (docs/task-protocol.md): keeps every unfinished task
 * in memory (rebuilt from `/tasks` when elected), assigns ready tasks to the
 * least-loaded matching workers, moves the tasks of dead workers, fails
 * attempts whose worker never reported, and brings retries back when due.
 *
 * Every write is fenced (LeaderContext.writes) and compare-and-set on the
 * task's version: when a write is refused, the task is read again and the
 * decision made anew — ZooKeeper, not this memory, is the truth.
 */
export class Dispatcher {
  readonly pool = new WorkerPool();
  private readonly tasks = new LiveTasks();
  /** Ready to assign, in arrival order, with the time each became ready. */
  private readonly ready = new Map<string, number>();
  /** Tasks with a write of ours in flight: no second decision until it lands. */
  private readonly inFlight = new Set<string>();
  private readonly timers: Timers<TimerEntry>;
  private readonly workers: WorkerTracker;
  private pumpScheduled = false;
  /** Every live task is known (rebuilt from `/tasks`): new ones may be placed at once. */
  private loaded = false;
  /** Tasks adopted while the live tasks were being rebuilt. */
  private adoptedEarly: LiveTask[] = [];
  private readonly queue: QueueIntake;
  private readonly departures: WorkerDepartures;

  constructor(private readonly ctx: LeaderContext) {
    this.departures = new WorkerDepartures(ctx, this.pool);
    this.queue = new QueueIntake(ctx, (note) => this.onNote(note));
    this.timers = new Timers(
      (entry) =>
        entry.kind === 'sweep'
          ? this.sweep(entry.workerId, entry.ids)
          : this.onTimer(entry.kind, entry.id),
      ctx.now,
    );
    this.workers = new WorkerTracker(
      ctx,
      this.pool,
      {
        joined: (worker) => this.onWorkerJoined(worker),
        updated: () => this.pump(),
        left: (worker) => this.onWorkerLeft(worker),
        assignmentsGone: (worker, ids) => {
          // The worker no longer holds them: its slots are free whatever the tasks became.
          for (const id of ids) worker.assigned.delete(id);
          this.pump();
          // What they became comes in the queue note of the same write; a sweep reads the rest.
          const unexplained = ids.filter((id) => this.heldBy(id, worker.id));
          if (unexplained.length > 0) {
            this.timers.schedule(this.ctx.now() + NOTE_GRACE_MS, {
              kind: 'sweep',
              workerId: worker.id,
              ids: unexplained,
            });
          }
        },
        strayAssignments: (worker, ids) =>
          void this.departures.removeStrays(worker, ids, (id) => this.heldBy(id, worker.id)),
      },
      (id) => this.inFlight.has(id),
    );
  }

  /** Rebuilds the state from ZooKeeper, then starts dispatching. */
  async start(): Promise<void> {
    // A term closed while it starts (its first reads wait for ZooKeeper) stops between steps.
    await this.workers.start();
    if (!this.ctx.active) return;
    await this.queue.start();
    if (!this.ctx.active) return;
    await this.loadAllTasks();
    if (!this.ctx.active) return;
    this.workers.watchAssignments();
    this.loaded = true;
    for (const { record, version } of this.adoptedEarly.splice(0)) this.reconcile(record, version);
    this.pump();
  }

  async close(): Promise<void> {
    this.timers.stop();
    await this.queue.close();
    await this.workers.close();
  }

  /** Unfinished tasks of a job, as the leader knows them. */
  tasksOfJob(jobId: string): LiveTask[] {
    return this.tasks.ofJob(jobId);
  }

  /** Unfinished tasks by state, for metrics. */
  countByState(): Map<TaskState, number> {
    return this.tasks.countByState();
  }

  /** Due tasks waiting for a worker with room. */
  readyCount(): number {
    return this.ready.size;
  }

  /**
   * A task this leader just created (a job fire, its API's submission): track
   * and dispatch it; before the live tasks are rebuilt, once they are.
   */
  adopt(record: TaskRecord, version: number): void {
    if (this.loaded) this.reconcile(record, version);
    else this.adoptedEarly.push({ record, version });
  }

  /**
   * A worker for a task this replica's API is about to create, when one has
   * room now and no other task waits for one (no jumping the line): the task is
   * then created already assigned, in one write. The slot is held until settled.
   */
  place(record: TaskRecord): Placement | undefined {
    if (!this.loaded || !this.ctx.active || this.ready.size > 0) return undefined;
    if (record.parallelism > 1) return undefined; // a gang's members meet at a barrier: the usual way
    if (record.runAt - this.ctx.tuning.fireLeadMs > this.ctx.now()) return undefined;
    const chosen = this.pool.choose(record.selector, 1);
    if (!chosen) return undefined;
    const next = toAssigned(record, [chosen[0].id], this.ctx.now());
    const worker = chosen[0];
    worker.assigned.add(next.id);
    this.inFlight.add(next.id);
    return {
      record: next,
      workers: [worker.id],
      events: [taskEvent(this.ctx.event, 'task.assigned', next)],
      settle: (outcome) => {
        this.inFlight.delete(next.id);
        if (outcome.written) {
          this.ctx.metrics.assigned(0);
          this.reconcile(next, 0);
          this.workers.recheck(worker.id);
          return;
        }
        worker.assigned.delete(next.id);
        this.pump();
        // Sent, and the connection dropped: it may have landed (assigned), so read it.
        if (isRetryable(outcome.error) && this.ctx.active) {
          setTimeout(() => void this.refresh(next.id), 500);
        }
      },
    };
  }

  /** Cancels an unfinished task (concurrency `replace`, a paused or deleted job). */
  async cancel(id: string, reason: string): Promise<void> {
    const live = this.tasks.get(id);
    if (!live || this.inFlight.has(id)) return;
    await this.write(live, toCancelled(live.record, reason, this.ctx.now()), [
      cancelledEvent(this.ctx.event, live.record, reason),
    ]);
  }

  // ---- rebuild --------------------------------------------------------------------

  private async loadAllTasks(): Promise<void> {
    const { children } = await this.ctx.client.children(ZkLayout.tasks);
    for (let i = 0; i < children.length; i += READ_CHUNK) {
      await this.refreshAll(children.slice(i, i + READ_CHUNK));
    }
  }

  // ---- new work and outcomes -----------------------------------------------------------

  /**
   * A queue note: records written by others (new tasks, finished attempts,
   * hand-backs, cancellations) with their versions, decided on without a
   * read; ids without a record are read.
   */
  private async onNote(note: QueueNote): Promise<void> {
    if (!this.ctx.active) return;
    for (const { record, version } of note.tasks ?? []) {
      if (isTerminal(record.state)) this.finished(record.id, version);
      else this.reconcile(record as TaskRecord, version);
    }
    await this.refreshAll(note.ids.filter((id) => !this.tasks.has(id)));
  }

  /** True while the leader's record of a task still has the worker holding it. */
  private heldBy(id: string, workerId: string): boolean {
    const live = this.tasks.get(id);
    return live !== undefined && holdersOf(live.record).includes(workerId);
  }

  /** Vanished assignments that no note explained in time: read those tasks. */
  private sweep(workerId: string, ids: readonly string[]): void {
    if (!this.ctx.active) return;
    const stale = ids.filter((id) => !this.inFlight.has(id) && this.heldBy(id, workerId));
    if (stale.length === 0) return;
    this.ctx.logger.log('no queue note explained vanished assignments; reading the tasks', {
      workerId,
      tasks: stale.length,
    });
    void this.refreshAll(stale);
  }

  // ---- the state machine ------------------------------------------------------------

  /** Reads tasks again and decides what each needs. */
  private async refreshAll(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.refresh(id)));
  }

  private async refresh(id: string): Promise<void> {
    try {
      const task = await this.ctx.tasks.read(id);
      if (!task) this.forget(id);
      else if (this.ctx.active) this.reconcile(task.record, task.version);
    } catch (error) {
      if (!this.ctx.active) return;
      this.ctx.logger.warn('could not read a task; retrying', { taskId: id, error: String(error) });
      setTimeout(() => void this.refresh(id), 500);
    }
  }

  /** A task that finished (told by a queue note): let it go, unless we hold a later version. */
  private finished(id: string, version: number): void {
    const known = this.tasks.get(id);
    if (known && known.version > version) return;
    this.forget(id);
  }

  /** The one place that maps a task's stored state to what the leader does next. */
  private reconcile(record: TaskRecord, version: number): void {
    const id = record.id;
    const known = this.tasks.get(id);
    if (known && known.version > version) return; // an older read than what we hold
    const step = nextStep(
      record,
      (worker) => this.pool.get(worker) !== undefined,
      this.ctx.tuning,
      this.ctx.now(),
    );
    if (step.kind === 'forget') {
      this.forget(id);
      return;
    }
    const live = this.tasks.track(record, version);
    switch (step.kind) {
      case 'assign':
        this.whenDue(live, step.at);
        return;
      case 'reassign':
        for (const worker of step.dead) this.departures.goneUnseen(worker);
        void this.reassign(live, step.dead[0] ?? 'unknown', 'worker gone');
        return;
      case 'watch':
        for (const worker of step.holders) this.pool.get(worker)!.assigned.add(id);
        if (step.deadline !== undefined)
          this.timers.schedule(step.deadline, { kind: 'deadline', id });
        return;
    }
  }

  private forget(id: string): void {
    this.tasks.forget(id);
    this.ready.delete(id);
    for (const worker of this.pool.all()) if (worker.assigned.delete(id)) this.pump();
  }

  private whenDue(live: LiveTask, at: number): void {
    if (at <= this.ctx.now()) {
      this.markReady(live.record.id);
      this.pump();
    } else {
      this.timers.schedule(at, { kind: 'due', id: live.record.id });
    }
  }

  private onTimer(kind: TimerKind, id: string): void {
    if (!this.ctx.active) return;
    const live = this.tasks.get(id);
    if (!live || this.inFlight.has(id)) return;
    const { state } = live.record;
    if (kind === 'due' && (state === 'pending' || state === 'retrying')) {
      this.markReady(id);
      this.pump();
    } else if (kind === 'deadline' && (state === 'assigned' || state === 'running')) {
      const deadline = deadlineOf(live.record, this.ctx.tuning.timeoutGraceMs);
      if (deadline !== undefined && deadline <= this.ctx.now()) void this.timeOut(live);
    }
  }

  // ---- assignment ----------------------------------------------------------------

  private pump(): void {
    if (this.pumpScheduled || !this.ctx.active) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (this.ctx.active) this.assignReady();
    });
  }

  private markReady(id: string): void {
    if (!this.ready.has(id)) this.ready.set(id, this.ctx.now());
  }

  private assignReady(): void {
    for (const [id, readySince] of this.ready) {
      if (this.pool.freeCapacity() === 0) return;
      const live = this.tasks.get(id);
      if (!live || this.inFlight.has(id) || !['pending', 'retrying'].includes(live.record.state)) {
        this.ready.delete(id);
        continue;
      }
      const chosen = this.pool.choose(live.record.selector, live.record.parallelism);
      if (!chosen) continue; // waits until a matching worker has room
      this.ready.delete(id);
      void this.assign(live, chosen, readySince);
    }
  }

  private async assign(live: LiveTask, workers: PoolWorker[], readySince: number): Promise<void> {
    const ids = workers.map((w) => w.id);
    const next = toAssigned(live.record, ids, this.ctx.now());
    for (const worker of workers) worker.assigned.add(next.id);
    this.inFlight.add(next.id);
    let outcome: CommitOutcome;
    try {
      outcome = await this.ctx.tasks.commit({
        from: live,
        next,
        assign: ids,
        events: [
          taskEvent(
            this.ctx.event,
            'task.assigned',
            next,
            ids.length > 1 ? { workers: ids } : undefined,
          ),
        ],
      });
    } catch (error) {
      outcome = { kind: 'unknown', error };
    }
    this.inFlight.delete(next.id);
    if (outcome.kind === 'written') {
      this.ctx.metrics.assigned(this.ctx.now() - readySince);
      this.reconcile(outcome.task.record, outcome.task.version);
      for (const worker of workers) this.workers.recheck(worker.id);
      return;
    }
    for (const worker of workers) worker.assigned.delete(next.id);
    if (outcome.kind === 'taken') {
      // A leftover assignment node would refuse every new assignment: remove it first.
      const stale = ZkLayout.assignment(outcome.workerId, next.id);
      await this.ctx.writes.submit({ ops: [Op.delete(stale)] }).catch(() => undefined);
    }
    this.afterRefusal(next.id, outcome);
  }

  // ---- moving work away from workers ---------------------------------------------------

  private onWorkerJoined(worker: PoolWorker): void {
    this.departures.joined(worker);
    this.pump();
  }

  private onWorkerLeft(worker: PoolWorker): void {
    this.departures.left(worker);
    for (const id of worker.assigned) {
      const live = this.tasks.get(id);
      if (live && !this.inFlight.has(id)) void this.reassign(live, worker.id, 'worker gone');
    }
  }

  private async reassign(live: LiveTask, fromWorker: string, reason: string): Promise<void> {
    const event = taskEvent(this.ctx.event, 'task.reassigned', live.record, {
      from: fromWorker,
      reason,
    });
    if (await this.write(live, toPending(live.record), [event])) this.ctx.metrics.reassigned();
  }

  /** The worker never reported within the attempt's timeout (+ grace): the attempt failed. */
  private async timeOut(live: LiveTask): Promise<void> {
    const timeoutMs = live.record.timeoutMs ?? 0;
    const error = {
      code: 'timeout',
      message: `no report within ${timeoutMs} ms (+${this.ctx.tuning.timeoutGraceMs} ms grace)`,
    };
    const next = toFailedAttempt(live.record, error, this.ctx.now());
    const events = attemptFailedEvents(
      this.ctx.event,
      next,
      { error, timedOut: true },
      { by: 'leader' },
    );
    await this.write(live, next, events);
  }

  /**
   * Moves the task on to `next`, taking it from the workers that hold it, in one
   * fenced transaction. False when ZooKeeper refused: the task is read again.
   */
  private async write(live: LiveTask, next: TaskRecord, events: AuditEvent[]): Promise<boolean> {
    const id = next.id;
    if (this.inFlight.has(id)) return false;
    this.inFlight.add(id);
    const holders = holdersOf(live.record);
    let outcome: CommitOutcome;
    try {
      outcome = await this.ctx.tasks.commit({ from: live, next, events, release: holders });
    } catch (error) {
      outcome = { kind: 'unknown', error };
    }
    this.inFlight.delete(id);
    if (outcome.kind !== 'written') {
      this.afterRefusal(id, outcome);
      return false;
    }
    for (const worker of holders) this.pool.get(worker)?.assigned.delete(id);
    this.reconcile(outcome.task.record, outcome.task.version);
    this.pump();
    return true;
  }

  // ---- helpers -------------------------------------------------------------------------

  /** A write was refused: unless leadership ended, read the task again and decide anew. */
  private afterRefusal(id: string, outcome: Exclude<CommitOutcome, { kind: 'written' }>): void {
    const error = outcome.kind === 'unknown' ? outcome.error : undefined;
    if (error instanceof NotLeaderError || !this.ctx.active) return;
    const connection = isConnectionProblem(error);
    if (!connection)
      this.ctx.logger.log('write refused; reading the task again', {
        taskId: id,
        outcome: outcome.kind,
        ...(error === undefined ? {} : { error: String(error) }),
      });
    setTimeout(() => void this.refresh(id), connection ? 500 : 0);
  }
}
