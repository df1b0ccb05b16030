import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { ZkClient } from '@app/zk';
import { AppConfig, currentPrincipal } from '@app/common';
import { PERSISTENT_PARENTS } from '@app/contracts';
import { AuditWriter } from './audit-writer';
import { JobStore } from './job-store';
import { TaskStore } from './task-store';
import { WriteBatcher } from './write-batcher';

/** Creates the persistent parents of the layout (idempotent) before anything writes. */
@Injectable()
export class LayoutInitializer implements OnModuleInit {
  constructor(private readonly client: ZkClient) {}

  async onModuleInit(): Promise<void> {
    await Promise.all(PERSISTENT_PARENTS.map((path) => this.client.mkdirp(path)));
  }
}

/**
 * The ZooKeeper-backed stores of a service: unfenced writes (API replicas,
 * workers), batched per turn of the event loop. Needs ZooKeeperModule and
 * AppConfigModule.
 */
@Module({
  providers: [
    LayoutInitializer,
    {
      provide: AuditWriter,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new AuditWriter(
          `${config.service}/${config.memberId}/${process.pid}`,
          Date.now,
          () => currentPrincipal()?.name,
        ),
    },
    {
      provide: WriteBatcher,
      inject: [ZkClient],
      useFactory: (client: ZkClient) => new WriteBatcher({ commit: (ops) => client.multi(ops) }),
    },
    {
      provide: JobStore,
      inject: [ZkClient, WriteBatcher, AuditWriter],
      useFactory: (client: ZkClient, writes: WriteBatcher, audit: AuditWriter) =>
        new JobStore(client, writes, audit),
    },
    {
      provide: TaskStore,
      inject: [ZkClient, WriteBatcher, AuditWriter],
      useFactory: (client: ZkClient, writes: WriteBatcher, audit: AuditWriter) =>
        new TaskStore(client, writes, audit),
    },
  ],
  exports: [AuditWriter, WriteBatcher, JobStore, TaskStore],
})
export class StoreModule {}
