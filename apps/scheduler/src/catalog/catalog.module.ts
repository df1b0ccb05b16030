import {
  Injectable,
  Logger,
  Module,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ReadinessRegistry, ZooKeeperModule } from '@app/common';
import { ZkClient } from '@app/zk';
import { Gauge, Registry } from 'prom-client';
import { StoreModule } from '@app/store/store.module';
import { SCHEDULE_FACTORY, scheduleForJob, type ScheduleFactory } from '../timing/schedule-factory';
import { JobCatalog } from './job-catalog';

/**
 * Starts the job view at bootstrap, in the background (a large one takes
 * seconds to build); `/health/ready` waits for its first build. Metrics:
 * `zks_scheduler_job_view_jobs`, `zks_scheduler_job_view_current`.
 */
@Injectable()
export class JobCatalogLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('JobView');
  private unregister: (() => void) | undefined;

  constructor(
    private readonly catalog: JobCatalog,
    private readonly readiness: ReadinessRegistry,
    @Optional() registry?: Registry,
  ) {
    if (!registry) return; // an application without metrics (the API alone, in tests)
    new Gauge({
      name: 'zks_scheduler_job_view_jobs',
      help: "Jobs in this replica's job view (every replica keeps one)",
      registers: [registry],
      collect() {
        this.set(catalog.size);
      },
    });
    new Gauge({
      name: 'zks_scheduler_job_view_current',
      help: "1 while this replica's job view follows the job change log with nothing missed, else 0 (rebuilding, or connection trouble)",
      registers: [registry],
      collect() {
        this.set(catalog.isCurrent ? 1 : 0);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.unregister = this.readiness.register('jobs', () => this.catalog.hasBuilt);
    this.catalog
      .start()
      .catch((error: unknown) =>
        this.logger.error({ msg: 'the job view did not start', error: String(error) }),
      );
  }

  /**
   * Before the servers close, not after: a request waiting for the view to
   * catch up (`GET /v1/jobs`) is released by the close, where it would hold
   * the HTTP server's close until HttpShutdown cuts it.
   */
  beforeApplicationShutdown(): void {
    this.unregister?.();
    this.catalog.close();
  }
}

/** Every replica's job view (JobCatalog), for the API and the leader. Needs ZooKeeperModule. */
@Module({
  imports: [ZooKeeperModule, StoreModule],
  providers: [
    { provide: SCHEDULE_FACTORY, useValue: scheduleForJob },
    {
      provide: JobCatalog,
      inject: [ZkClient, SCHEDULE_FACTORY],
      useFactory: (client: ZkClient, scheduleFor: ScheduleFactory) => {
        const logger = new Logger('JobView');
        return new JobCatalog(client, scheduleFor, {
          log: (msg, context) => logger.log({ msg, ...context }),
          warn: (msg, context) => logger.warn({ msg, ...context }),
        });
      },
    },
    JobCatalogLifecycle,
  ],
  exports: [JobCatalog, SCHEDULE_FACTORY],
})
export class CatalogModule {}
