import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import {
  ApiAuthModule,
  AppConfigModule,
  HealthModule,
  LoggingModule,
  ShutdownModule,
  MetricsModule,
  ZooKeeperModule,
  WEBHOOK_SETTINGS,
  loadWebhookSettings,
  memberRegistration,
  type ServiceDescriptor,
} from '@app/common';
import { ApiValidationPipe } from '@app/common/api';
import { AuditModule } from '@app/audit/audit.module';
import { StoreModule } from '@app/store/store.module';
import { RegistryHttpExceptionFilter } from './api/registry-exception.filters';
import { AuditDrainService } from './audit-drain/audit-drain.service';
import { AuditController } from './audit-query/audit.controller';
import { AuditQueryService } from './audit-query/audit-query.service';
import { ClusterController } from './cluster/cluster.controller';
import { ClusterViewService } from './cluster/cluster-view.service';
import { REGISTRY_SETTINGS, loadRegistrySettings } from './config/registry-settings';
import { AccessController } from './console/access.controller';
import { ConsoleMiddleware } from './console/console.middleware';
import { TaskRatesController } from './console/task-rates.controller';
import { EventTail } from './events/event-tail';
import { StreamAdmission } from './events/stream-admission';
import { EventsController } from './events/events.controller';
import { RegistryGrpcController } from './grpc/registry-grpc.controller';

/** Cluster view, audit drain into PostgreSQL, audit/history API and live events. */
export const REGISTRY_SERVICE: ServiceDescriptor = {
  name: 'registry',
  defaultHttpPort: 3001,
  defaultGrpcPort: 50052,
};

/**
 * The registry: every replica registers (`/members/registries`), serves the
 * cluster view, the audit query API and the live stream (HTTP + gRPC); the one
 * elected drains the outbox and retires finished tasks; the web console is
 * served at its root (with a proxy to the schedulers). The application must
 * be prepared with REGISTRY_API_BOOTSTRAP (OpenAPI at /docs, gRPC).
 */
@Module({
  imports: [
    AppConfigModule.forRoot(REGISTRY_SERVICE),
    LoggingModule,
    ShutdownModule,
    ApiAuthModule,
    HealthModule,
    MetricsModule,
    ZooKeeperModule,
    // For the layout's persistent parents (the outbox, the elections).
    StoreModule,
    AuditModule.forRoot({ requiredForReadiness: true }),
  ],
  controllers: [
    AccessController,
    AuditController,
    ClusterController,
    EventsController,
    TaskRatesController,
    RegistryGrpcController,
  ],
  providers: [
    { provide: REGISTRY_SETTINGS, useFactory: () => loadRegistrySettings(process.env) },
    { provide: WEBHOOK_SETTINGS, useFactory: () => loadWebhookSettings(process.env) },
    ...memberRegistration({ kind: 'registries', readinessCheck: 'registry', automatic: true }),
    AuditDrainService,
    ClusterViewService,
    AuditQueryService,
    EventTail,
    StreamAdmission,
    { provide: APP_PIPE, useClass: ApiValidationPipe },
    { provide: APP_FILTER, useClass: RegistryHttpExceptionFilter },
  ],
})
export class RegistryModule implements NestModule {
  /** The console (files and the scheduler proxy) ahead of every route; it passes API paths on. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ConsoleMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
