import { Injectable, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ZkClient } from '@app/zk';
import { ZkModule } from '@app/zk/nest';
import { AppConfig } from '../config/app-config';
import { ReadinessRegistry } from '../health/readiness-registry';
import { ZooKeeperAclCheck } from './zookeeper-acl-check';
import { ZooKeeperMetrics } from './zookeeper-metrics';

/** `GET /health/ready` reports ZooKeeper ready while the session is connected. */
@Injectable()
export class ZooKeeperReadiness implements OnModuleInit, OnModuleDestroy {
  private unregister: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly readiness: ReadinessRegistry,
    private readonly metrics: ZooKeeperMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.attach(this.client);
    this.unregister = this.readiness.register('zookeeper', () => this.client.isConnected);
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}

/** Exists before the client, which reports its operations to it (on MetricsModule's registry when there is one). */
@Module({ providers: [ZooKeeperMetrics], exports: [ZooKeeperMetrics] })
export class ZooKeeperMetricsModule {}

/** The service's ZooKeeper session, configured from the validated environment. */
@Module({
  imports: [
    ZooKeeperMetricsModule,
    ZkModule.forRootAsync({
      imports: [ZooKeeperMetricsModule],
      inject: [AppConfig, ZooKeeperMetrics],
      useFactory: (config: AppConfig, metrics: ZooKeeperMetrics) => ({
        connectString: config.zooKeeper.connect,
        root: config.zooKeeper.root,
        sessionTimeoutMs: config.zooKeeper.sessionTimeoutMs,
        // Every node created gets a digest ACL; every session (re)authenticates.
        digest: config.zooKeeper.digest,
        onOperation: metrics.onOperation,
      }),
    }),
  ],
  providers: [ZooKeeperReadiness, ZooKeeperAclCheck],
})
export class ZooKeeperModule {}
