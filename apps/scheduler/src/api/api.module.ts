import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ApiAuthModule, ZooKeeperModule } from '@app/common';
import { StoreModule } from '@app/store/store.module';
import { AuditModule } from '@app/audit/audit.module';
import { CatalogModule } from '../catalog/catalog.module';
import { ApiHttpExceptionFilter } from './errors/http-exception.filter';
import { SchedulerGrpcController } from './grpc/scheduler-grpc.controller';
import { JobsController } from './jobs/jobs.controller';
import { JobsService } from './jobs/jobs.service';
import { JobLimit, MAX_JOBS, loadMaxJobs } from './limits/job-limit';
import { LiveTaskLimit, MAX_LIVE_TASKS, loadMaxLiveTasks } from './limits/live-task-limit';
import { TasksController } from './tasks/tasks.controller';
import { TaskHistoryReader } from './tasks/task-history';
import { TasksService } from './tasks/tasks.service';
import { ApiValidationPipe } from '@app/common/api';

/**
 * The scheduler's public API: `/v1/jobs` and `/v1/tasks` over HTTP and
 * `zkscheduler.scheduler.v1.SchedulerService` over gRPC, served by every
 * replica (writes go straight to ZooKeeper through the stores). Needs the
 * global AppConfigModule and HealthModule; the application must be prepared
 * with SCHEDULER_API_BOOTSTRAP (body limit, OpenAPI at /docs, gRPC).
 */
@Module({
  // AuditModule: reads of the task history (tasks retired from ZooKeeper); never drains.
  imports: [
    ApiAuthModule,
    ZooKeeperModule,
    StoreModule,
    CatalogModule,
    AuditModule.forRoot({ requiredForReadiness: false }),
  ],
  controllers: [JobsController, TasksController, SchedulerGrpcController],
  providers: [
    JobsService,
    JobLimit,
    { provide: MAX_JOBS, useFactory: () => loadMaxJobs(process.env) },
    LiveTaskLimit,
    { provide: MAX_LIVE_TASKS, useFactory: () => loadMaxLiveTasks(process.env) },
    TasksService,
    TaskHistoryReader,
    { provide: APP_PIPE, useClass: ApiValidationPipe },
    { provide: APP_FILTER, useClass: ApiHttpExceptionFilter },
  ],
})
export class ApiModule {}
