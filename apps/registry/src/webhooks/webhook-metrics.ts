import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The webhook deliverer's Prometheus metrics, on the application's registry. */
export class WebhookMetrics {
  readonly deliveries: Counter<'outcome'>;
  readonly lag: Histogram;
  readonly pending: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.deliveries = new Counter({
      name: 'zks_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered (2xx), retried (will be tried again), failed (retried for the whole window, given up)',
      labelNames: ['outcome'],
      registers,
    });
    this.lag = new Histogram({
      name: 'zks_webhook_delivery_lag_seconds',
      help: 'From the event (its audit time) to the 2xx of its delivery',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400],
      registers,
    });
    this.pending = new Gauge({
      name: 'zks_webhook_pending_deliveries',
      help: 'Webhook deliveries not yet delivered nor failed (waiting or retrying), as last counted by the draining registry',
      registers,
    });
  }
}
