import { Global, Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { MetricsController } from './metrics.controller';

/**
 * One registry per application (not prom-client's global one), so that several
 * applications in one process, as in tests, never collide on a metric name.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `GET /metrics` in the Prometheus text format: process metrics by default;
 * features inject `Registry` (from prom-client) and add their own, e.g.
 * `new Counter({ name: 'zks_tasks_fired_total', help: '…', registers: [registry] })`.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [{ provide: Registry, useFactory: createMetricsRegistry }],
  exports: [Registry],
})
export class MetricsModule {}
