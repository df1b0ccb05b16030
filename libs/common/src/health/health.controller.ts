import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { HealthCheckResult, HealthIndicatorFunction } from '@nestjs/terminus';
import { PublicRoute } from '../auth/api-roles';
import { ReadinessRegistry } from './readiness-registry';

/** A check that hangs must not hang the probe. */
export const READINESS_CHECK_TIMEOUT_MS = 3_000;

// Probes carry no token: health stays open when the API needs one.
@PublicRoute()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessRegistry,
  ) {}

  /** Up while the process serves HTTP: the event loop is alive. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** 200 when every registered check passes, 503 with the failing ones otherwise. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const indicators: HealthIndicatorFunction[] = this.readiness.entries().map(
      ([name, check]) =>
        () =>
          this.indicators
            .check(name)
            .attempt(async () => {
              if (!(await check())) throw new Error('not ready');
            })
            .withTimeout(READINESS_CHECK_TIMEOUT_MS),
    );
    return this.health.check(indicators);
  }
}
