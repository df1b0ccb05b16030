import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ApiAuthModule, WEBHOOK_SETTINGS, ZooKeeperModule, loadWebhookSettings } from '@app/common';
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
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksService } from './webhooks/webhooks.service';
import { WebhooksGrpcController } from './webhooks/webhooks-grpc.controller';
import { ApiValidationPipe } from '@app/common/api';

/**
 * The scheduler's public API: `/v1/jobs`, `/v1/tasks` and `/v1/webhooks` over HTTP and
 * `zkscheduler.scheduler.v1.SchedulerService` over gRPC, served by every
 * replica (writes go straight to ZooKeeper through the stores). Needs the
 * global AppConfigModule and HealthModule; the application must be prepared
 * with SCHEDULER_API_BOOTSTRAP (body limit, OpenAPI at /docs, gRPC).
 */
@Module({
  // AuditModule: reads of the task history (tasks retired from ZooKeeper) and the webhook
  // subscriptions; never drains.
  imports: [
    ApiAuthModule,
    ZooKeeperModule,
    StoreModule,
    CatalogModule,
    AuditModule.forRoot({ requiredForReadiness: false }),
  ],
  controllers: [
    JobsController,
    TasksController,
    WebhooksController,
    SchedulerGrpcController,
    WebhooksGrpcController,
  ],
  providers: [
    JobsService,
    JobLimit,
    { provide: MAX_JOBS, useFactory: () => loadMaxJobs(process.env) },
    LiveTaskLimit,
    { provide: MAX_LIVE_TASKS, useFactory: () => loadMaxLiveTasks(process.env) },
    TasksService,
    TaskHistoryReader,
    WebhooksService,
    { provide: WEBHOOK_SETTINGS, useFactory: () => loadWebhookSettings(process.env) },
    { provide: APP_PIPE, useClass: ApiValidationPipe },
    { provide: APP_FILTER, useClass: ApiHttpExceptionFilter },
  ],
})
export class ApiModule {}
