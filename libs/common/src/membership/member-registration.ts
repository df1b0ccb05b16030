import {
  Inject,
  Injectable,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type Provider,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GroupMembership, ZkClient } from '@app/zk';
import { structuredLogger } from '@app/zk/nest';
import { ZkLayout, type MemberInfo, type MemberKind } from '@app/contracts';
import { AppConfig } from '../config/app-config';
import { httpServerOf, memberEndpoint } from '../config/member-endpoint';
import { ReadinessRegistry } from '../health/readiness-registry';

export interface MemberRegistrationOptions<T extends MemberInfo> {
  kind: MemberKind;
  /** A readiness check (`GET /health/ready`): registered on a connected session. */
  readinessCheck?: string;
  /** What the member says beside its endpoint, pid and start (a worker's capacity, labels). */
  extra?: (config: AppConfig) => Omit<T, keyof MemberInfo>;
  /** Register at application bootstrap and leave at shutdown; else the service calls both. */
  automatic?: boolean;
}

export const MEMBER_REGISTRATION_OPTIONS = Symbol('MEMBER_REGISTRATION_OPTIONS');

/**
 * This process's ephemeral member node `/members/<kind>/<memberId>`
 * (GroupMembership: re-created on every new session with the latest data),
 * holding its endpoint (the port it really listens on, once it listens), pid
 * and start time, plus what its kind adds. The one registration of every
 * service; provide it with `memberRegistration(options)`.
 */
@Injectable()
export class MemberRegistration<T extends MemberInfo = MemberInfo>
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = structuredLogger('Membership');
  private membership: GroupMembership<T> | undefined;
  private info: T;
  private unregisterReadiness: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly config: AppConfig,
    private readonly readiness: ReadinessRegistry,
    @Inject(MEMBER_REGISTRATION_OPTIONS) private readonly options: MemberRegistrationOptions<T>,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.info = {
      endpoint: memberEndpoint(config),
      pid: process.pid,
      startedAt: Date.now(),
      ...options.extra?.(config),
    } as T;
  }

  get isRegistered(): boolean {
    return this.membership?.isRegistered === true;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.automatic) await this.register();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.options.automatic) await this.close();
  }

  /** Creates the member node (a live duplicate id fails the start). */
  async register(): Promise<void> {
    const server = httpServerOf(this.adapterHost);
    this.info = { ...this.info, endpoint: memberEndpoint(this.config, server) };
    const membership = new GroupMembership<T>(this.client, {
      path: ZkLayout.members(this.options.kind),
      id: this.config.memberId,
      data: this.info,
      logger: this.logger,
    });
    membership.on('error', (error) =>
      this.logger.warn('member registration problem', { error: error.message }),
    );
    this.membership = membership;
    await membership.start();
    const check = this.options.readinessCheck;
    if (check !== undefined) {
      this.unregisterReadiness = this.readiness.register(
        check,
        () => this.isRegistered && this.client.isConnected,
      );
    }
    // With HTTP_PORT=0 the real port is known once the server listens.
    if (server !== undefined && !server.listening) {
      server.once('listening', () => {
        void this.update({ endpoint: memberEndpoint(this.config, server) } as Partial<T>);
      });
    }
  }

  /**
   * Changes the member's data (kept for re-creation); true once written,
   * false when not within `timeoutMs` (the change still goes out later).
   */
  async update(change: Partial<T>, timeoutMs = 5_000): Promise<boolean> {
    this.info = { ...this.info, ...change };
    const membership = this.membership;
    if (!membership) return false;
    let timer: NodeJS.Timeout | undefined;
    const written = membership.update(this.info).then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([written, timedOut]);
    clearTimeout(timer);
    return ok;
  }

  /** Deletes the member node now (others see it leave at once). */
  async close(): Promise<void> {
    this.unregisterReadiness?.();
    this.unregisterReadiness = undefined;
    await this.membership?.close();
    this.membership = undefined;
  }
}

/** The providers of a service's MemberRegistration. */
export function memberRegistration<T extends MemberInfo>(
  options: MemberRegistrationOptions<T>,
): Provider[] {
  return [{ provide: MEMBER_REGISTRATION_OPTIONS, useValue: options }, MemberRegistration];
}
