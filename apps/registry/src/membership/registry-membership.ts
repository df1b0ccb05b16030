import {
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GroupMembership, ZkClient } from '@app/zk';
import { AppConfig, ReadinessRegistry, httpServerOf, memberEndpoint } from '@app/common';
import { ZkLayout, type MemberInfo } from '@app/contracts';

/**
 * This registry's ephemeral member node `/members/registries/<id>` (re-created
 * on every new session), holding its endpoint and pid. Readiness (`registry`):
 * registered on a connected session.
 */
@Injectable()
export class RegistryMembership implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RegistryMembership');
  private membership: GroupMembership<MemberInfo> | undefined;
  private info: MemberInfo;
  private unregisterReadiness: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly config: AppConfig,
    private readonly readiness: ReadinessRegistry,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.info = {
      endpoint: memberEndpoint(config),
      pid: process.pid,
      startedAt: Date.now(),
    };
  }

  get isRegistered(): boolean {
    return this.membership?.isRegistered === true;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = httpServerOf(this.adapterHost);
    this.info = { ...this.info, endpoint: memberEndpoint(this.config, server) };
    const membership = new GroupMembership<MemberInfo>(this.client, {
      path: ZkLayout.members('registries'),
      id: this.config.memberId,
      data: this.info,
      logger: {
        info: (message, context) => this.logger.log({ msg: message, ...context }),
        warn: (message, context) => this.logger.warn({ msg: message, ...context }),
      },
    });
    membership.on('error', (error) =>
      this.logger.warn({ msg: 'registry membership problem', error: error.message }),
    );
    this.membership = membership;
    await membership.start();
    this.unregisterReadiness = this.readiness.register(
      'registry',
      () => this.isRegistered && this.client.isConnected,
    );
    // With HTTP_PORT=0 the real port is known once the server listens.
    if (server !== undefined && !server.listening) {
      server.once('listening', () => {
        this.info = { ...this.info, endpoint: memberEndpoint(this.config, server) };
        this.membership?.update(this.info).catch(() => undefined);
      });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unregisterReadiness?.();
    this.unregisterReadiness = undefined;
    await this.membership?.close();
    this.membership = undefined;
  }
}
