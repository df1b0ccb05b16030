import { Module, forwardRef } from '@nestjs/common';
import {
  ApiAuthModule,
  AppConfigModule,
  HealthModule,
  LoggingModule,
  ShutdownModule,
  MetricsModule,
  ZooKeeperModule,
  loadAppConfig,
  memberRegistration,
  type ServiceDescriptor,
} from '@app/common';
import type { WorkerInfo } from '@app/contracts';
import { StoreModule } from '@app/store/store.module';
import { loadHandlerSettings } from './config/handler-settings';
import { loadShutdownGraceMs, SHUTDOWN_GRACE_MS } from './config/shutdown-grace';
import { WorkerShutdown } from './execution/shutdown';
import { WorkerEngine } from './execution/worker-engine';
import { HandlersModule } from './handlers/handlers.module';

/** Runs the tasks assigned to it; HTTP only (health and metrics). */
export const WORKER_SERVICE: ServiceDescriptor = {
  name: 'worker',
  defaultHttpPort: 3002,
};

@Module({
  imports: [
    AppConfigModule.forRoot(WORKER_SERVICE),
    LoggingModule,
    ShutdownModule,
    // Only /metrics (API_METRICS_REQUIRE_TOKEN) and /health (always open) here.
    ApiAuthModule,
    HealthModule,
    MetricsModule,
    ZooKeeperModule,
    StoreModule,
    // Built when the application is created, not when this file is imported:
    // the handler set depends on the environment (WORKER_ALLOW_SHELL).
    // WORKER_SHELL_*, WORKER_HTTP_ALLOWED_HOSTS, WORKER_LOGS_ROOTS: see config/handler-settings.
    forwardRef(() =>
      HandlersModule.forRoot(
        loadHandlerSettings(
          process.env,
          loadAppConfig(process.env, WORKER_SERVICE).worker.allowShell,
        ),
      ),
    ),
  ],
  providers: [
    { provide: SHUTDOWN_GRACE_MS, useFactory: () => loadShutdownGraceMs(process.env) },
    ...memberRegistration<WorkerInfo>({
      kind: 'workers',
      readinessCheck: 'worker',
      extra: (config) => ({
        capacity: config.worker.capacity,
        labels: { ...config.worker.labels },
      }),
    }),
    WorkerEngine,
    WorkerShutdown,
  ],
})
export class WorkerModule {}
