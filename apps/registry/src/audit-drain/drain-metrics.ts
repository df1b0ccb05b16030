import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The drain's and retention's Prometheus metrics, on the application's registry. */
export class DrainMetrics {
  readonly outboxDepth: Gauge;
  readonly drainedEvents: Counter<'outcome'>;
  readonly batchDuration: Histogram;
  readonly postgresErrors: Counter<'operation'>;
  readonly deadLetters: Counter<'reason'>;
  readonly isDrainer: Gauge;
  readonly retiredTasks: Counter;
  readonly retentionPending: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.outboxDepth = new Gauge({
      name: 'zks_registry_outbox_depth',
      help: 'Nodes waiting in /audit/outbox (as last seen by the draining registry)',
      registers,
    });
    this.drainedEvents = new Counter({
      name: 'zks_registry_drained_events_total',
      help: 'Audit events committed to PostgreSQL by the drain: new, or duplicate (stored before: a re-drain)',
      labelNames: ['outcome'],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'zks_registry_drain_batch_duration_seconds',
      help: 'One drain batch: read from ZooKeeper, commit to PostgreSQL, delete from the outbox',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.postgresErrors = new Counter({
      name: 'zks_registry_postgres_errors_total',
      help: 'Failed PostgreSQL operations of the drain and retention (each is retried)',
      labelNames: ['operation'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'zks_registry_outbox_dead_letters_total',
      help: 'Outbox nodes moved aside to /audit/dead: unreadable, or refused by PostgreSQL',
      labelNames: ['reason'],
      registers,
    });
    this.isDrainer = new Gauge({
      name: 'zks_registry_is_drainer',
      help: '1 while this registry is the elected drainer of the audit outbox',
      registers,
    });
    this.retiredTasks = new Counter({
      name: 'zks_registry_retired_tasks_total',
      help: 'Finished tasks removed from ZooKeeper after their history was stored',
      registers,
    });
    this.retentionPending = new Gauge({
      name: 'zks_registry_retention_pending',
      help: 'Finished tasks waiting for their retention delay before leaving ZooKeeper',
      registers,
    });
  }
}
