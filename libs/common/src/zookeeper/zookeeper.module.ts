import { Injectable, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ZkClient } from '@app/zk';
import { ZkModule } from '@app/zk/nest';
import { AppConfig } from '../config/app-config';
import { ReadinessRegistry } from '../health/readiness-registry';

/** `GET /health/ready` reports ZooKeeper ready while the session is connected. */
@Injectable()
export class ZooKeeperReadiness implements OnModuleInit, OnModuleDestroy {
  private unregister: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit(): void {
    this.unregister = this.readiness.register('zookeeper', () => this.client.isConnected);
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}

/** The service's ZooKeeper session, configured from the validated environment. */
@Module({
  imports: [
    ZkModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        connectString: config.zooKeeper.connect,
        root: config.zooKeeper.root,
        sessionTimeoutMs: config.zooKeeper.sessionTimeoutMs,
        // Every node created gets a digest ACL; every session (re)authenticates.
        digest: config.zooKeeper.digest,
      }),
    }),
  ],
  providers: [ZooKeeperReadiness],
})
export class ZooKeeperModule {}
