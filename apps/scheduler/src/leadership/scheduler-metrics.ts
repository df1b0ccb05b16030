import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TaskState } from '@app/contracts';

/** What a leadership term reports as it works (see SchedulerMetrics). */
export interface LeaderMetrics {
  /** A job fire was committed `latenessMs` after the moment it was planned for. */
  fired(latenessMs: number): void;
  /** A task was assigned `waitedMs` after it became due and ready to assign. */
  assigned(waitedMs: number): void;
  /** The tasks of a worker that left (or an attempt without a live worker) went back to pending. */
  reassigned(): void;
}

export const NO_LEADER_METRICS: LeaderMetrics = {
  fired: () => undefined,
  assigned: () => undefined,
  reassigned: () => undefined,
};

/** The live view a scrape reads from the current term, if this replica leads. */
export interface LeaderView {
  countByState(): ReadonlyMap<TaskState, number>;
  /** Due tasks waiting for a worker with room (and matching labels). */
  readyCount(): number;
  liveWorkers(): number;
}

const UNFINISHED: readonly TaskState[] = ['pending', 'assigned', 'running', 'retrying'];

/**
 * The scheduler's Prometheus metrics. Gauges are computed when scraped, from
 * the leader's in-memory view (which mirrors ZooKeeper); a standby reports 0
 * for them and `zks_scheduler_is_leader 0`.
 */
export class SchedulerMetrics implements LeaderMetrics {
  private readonly fireLateness: Histogram;
  private readonly assignmentLatency: Histogram;
  private readonly firedTotal: Counter;
  private readonly assignedTotal: Counter;
  private readonly reassignedTotal: Counter;

  constructor(registry: Registry, isLeader: () => boolean, view: () => LeaderView | undefined) {
    const registers = [registry];
    this.fireLateness = new Histogram({
      name: 'zks_scheduler_fire_lateness_seconds',
      help: 'Commit of a job fire minus the moment it was planned for (its instant, less the fire lead of allow jobs)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    });
    this.assignmentLatency = new Histogram({
      name: 'zks_scheduler_assignment_latency_seconds',
      help: 'From a task becoming due (ready to assign) to its assignment being committed',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
      registers,
    });
    this.firedTotal = new Counter({
      name: 'zks_scheduler_fires_total',
      help: 'Job fires committed by this replica while leader (one task each)',
      registers,
    });
    this.assignedTotal = new Counter({
      name: 'zks_scheduler_assignments_total',
      help: 'Task assignments committed by this replica while leader',
      registers,
    });
    this.reassignedTotal = new Counter({
      name: 'zks_scheduler_reassignments_total',
      help: 'Tasks taken back from a worker that left and made pending again',
      registers,
    });
    new Gauge({
      name: 'zks_scheduler_is_leader',
      help: '1 while this scheduler is the elected leader, else 0',
      registers,
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'zks_scheduler_tasks',
      help: 'Unfinished tasks by state, as the leader holds them (0 on a standby); finished tasks are counted by the workers and the audit history',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = view()?.countByState();
        for (const state of UNFINISHED) this.set({ state }, counts?.get(state) ?? 0);
      },
    });
    new Gauge({
      name: 'zks_scheduler_queue_depth',
      help: 'Due tasks waiting for a worker with room (leader only; 0 on a standby)',
      registers,
      collect() {
        this.set(view()?.readyCount() ?? 0);
      },
    });
    new Gauge({
      name: 'zks_scheduler_workers_live',
      help: 'Live workers as the leader sees them (0 on a standby)',
      registers,
      collect() {
        this.set(view()?.liveWorkers() ?? 0);
      },
    });
  }

  fired(latenessMs: number): void {
    this.firedTotal.inc();
    this.fireLateness.observe(Math.max(0, latenessMs) / 1000);
  }

  assigned(waitedMs: number): void {
    this.assignedTotal.inc();
    this.assignmentLatency.observe(Math.max(0, waitedMs) / 1000);
  }

  reassigned(): void {
    this.reassignedTotal.inc();
  }
}
