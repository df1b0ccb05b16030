import { Injectable, type OnModuleInit } from '@nestjs/common';
import { NoNodeError, ZkClient } from '@app/zk';
import { PERSISTENT_PARENTS } from '@app/contracts';
import { AppConfig } from '../config/app-config';

/**
 * With ZK_AUTH, every node this service creates is closed to other clients;
 * a parent someone created beforehand with an open ACL would not be, and
 * anyone could then add children (a forged assignment, a task). So at start
 * each persistent parent that already exists must give `world:anyone` no
 * permission at all, or the service refuses to run (the client checks the
 * root itself when it starts: ZkClient.refuseOpenNode).
 */
@Injectable()
export class ZooKeeperAclCheck implements OnModuleInit {
  constructor(
    private readonly client: ZkClient,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.zooKeeper.digest === undefined) return;
    for (const path of PERSISTENT_PARENTS) {
      try {
        await this.client.refuseOpenNode(path);
      } catch (error) {
        if (error instanceof NoNodeError) continue; // we create it, with our ACL
        throw error;
      }
    }
  }
}
