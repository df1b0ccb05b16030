import { Module } from '@nestjs/common';
import {
  AppConfigModule,
  HealthModule,
  LoggingModule,
  ShutdownModule,
  MetricsModule,
  ZooKeeperModule,
  type ServiceDescriptor,
} from '@app/common';
import { ApiModule } from './api/api.module';
import { LeadershipModule } from './leadership/leadership.module';

/** HTTP + gRPC job and task API; the elected leader fires and assigns tasks. */
export const SCHEDULER_SERVICE: ServiceDescriptor = {
  name: 'scheduler',
  defaultHttpPort: 3000,
  defaultGrpcPort: 50051,
};

@Module({
  imports: [
    AppConfigModule.forRoot(SCHEDULER_SERVICE),
    LoggingModule,
    ShutdownModule,
    HealthModule,
    MetricsModule,
    ZooKeeperModule,
    LeadershipModule,
    ApiModule,
  ],
})
export class SchedulerModule {}
