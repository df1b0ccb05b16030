import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The `type` label of a task whose type has no handler here: the label set stays bounded. */
export const OTHER_TYPE = 'other';

/**
 * The worker's Prometheus metrics, registered on the application's registry.
 * Task types come from submitters: the `type` label is the type only when
 * this worker has a handler for it, else `other`, so nobody can grow the
 * label set (and the scrape) by submitting made-up types.
 */
export class WorkerMetrics {
  readonly started: Counter<'type'>;
  readonly succeeded: Counter<'type'>;
  readonly failed: Counter<'type'>;
  readonly running: Gauge;
  readonly held: Gauge;
  readonly handlerDuration: Histogram<'type'>;
  readonly startLateness: Histogram;

  /**
   * `countHeld`: attempts admitted and not settled yet (waiting for runAt,
   * queued or running); `isHandled`: whether a handler is registered for a type.
   */
  constructor(
    registry: Registry,
    countHeld: () => number,
    private readonly isHandled: (type: string) => boolean,
  ) {
    const registers = [registry];
    this.started = new Counter({
      name: 'zks_worker_tasks_started_total',
      help: 'Task attempts started by this worker, by task type',
      labelNames: ['type'],
      registers,
    });
    this.succeeded = new Counter({
      name: 'zks_worker_tasks_succeeded_total',
      help: 'Task attempts that succeeded on this worker, by task type',
      labelNames: ['type'],
      registers,
    });
    this.failed = new Counter({
      name: 'zks_worker_tasks_failed_total',
      help: 'Task attempts that failed on this worker (handler error or timeout), by task type',
      labelNames: ['type'],
      registers,
    });
    this.running = new Gauge({
      name: 'zks_worker_tasks_running',
      help: 'Task attempts running on this worker now',
      registers,
    });
    this.held = new Gauge({
      name: 'zks_worker_tasks_held',
      help: 'Task attempts admitted by this worker and not finished: waiting for runAt, queued or running',
      registers,
      collect() {
        this.set(countHeld());
      },
    });
    this.handlerDuration = new Histogram({
      name: 'zks_worker_handler_duration_seconds',
      help: 'Time from the start of an attempt to its outcome, by task type',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
      registers,
    });
    this.startLateness = new Histogram({
      name: 'zks_worker_start_lateness_seconds',
      help: 'Start of an attempt minus its runAt (0 or more; tasks due on arrival count their wait)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 0.5, 1, 5, 30],
      registers,
    });
  }

  /** The label of a task type: itself when handled here, else `other`. */
  typeLabel(type: string): { type: string } {
    return { type: this.isHandled(type) ? type : OTHER_TYPE };
  }
}
