import { Injectable, Logger, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GroupMembership, ZkClient } from '@app/zk';
import { AppConfig, ReadinessRegistry, httpServerOf, memberEndpoint } from '@app/common';
import { ZkLayout, type WorkerInfo } from '@app/contracts';

/** How long shutdown waits for the `draining` flag to be written. */
const DRAINING_WRITE_TIMEOUT_MS = 5_000;

/**
 * This worker's ephemeral member node `/members/workers/<id>` (GroupMembership:
 * re-created on every new session with the latest data), holding its
 * WorkerInfo. Readiness (`worker`) is: registered on a connected session.
 */
@Injectable()
export class WorkerRegistration {
  private readonly logger = new Logger(WorkerRegistration.name);
  private membership: GroupMembership<WorkerInfo> | undefined;
  private info: WorkerInfo;
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
      capacity: config.worker.capacity,
      labels: { ...config.worker.labels },
    };
  }

  get isRegistered(): boolean {
    return this.membership?.isRegistered === true;
  }

  /** Creates the member node; the leader may assign work from then on. */
  async register(): Promise<void> {
    const server = httpServerOf(this.adapterHost);
    this.info.endpoint = memberEndpoint(this.config, server);
    const membership = new GroupMembership<WorkerInfo>(this.client, {
      path: ZkLayout.members('workers'),
      id: this.config.memberId,
      data: this.info,
      logger: {
        info: (message, context) => this.logger.log({ msg: message, ...context }),
        warn: (message, context) => this.logger.warn({ msg: message, ...context }),
      },
    });
    membership.on('error', (error) =>
      this.logger.warn({ msg: 'worker registration problem', error: error.message }),
    );
    this.membership = membership;
    await membership.start();
    this.unregisterReadiness = this.readiness.register(
      'worker',
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

  /** Tells the leader to assign nothing more (bounded wait for the write). */
  async markDraining(): Promise<void> {
    if (!this.membership) return;
    this.info = { ...this.info, draining: true };
    let timer: NodeJS.Timeout | undefined;
    const written = this.membership.update(this.info).then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), DRAINING_WRITE_TIMEOUT_MS);
    });
    const ok = await Promise.race([written, timedOut]);
    clearTimeout(timer);
    if (!ok) this.logger.warn({ msg: 'could not mark this worker draining; going on' });
  }

  /** Deletes the member node now (others see the worker leave at once). */
  async close(): Promise<void> {
    this.unregisterReadiness?.();
    this.unregisterReadiness = undefined;
    await this.membership?.close();
    this.membership = undefined;
  }
}
