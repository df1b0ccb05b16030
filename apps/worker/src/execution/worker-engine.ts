import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Registry } from 'prom-client';
import { NoNodeError, WatchedRead, ZkClient, type Watcher } from '@app/zk';
import { AppConfig, MemberRegistration } from '@app/common';
import { ZkLayout, type WorkerInfo } from '@app/contracts';
import { AuditWriter, WriteBatcher } from '@app/store';
import { HandlerRegistry } from '../handlers/handler-registry';
import { TaskExecutor } from './task-executor';
import { WorkerMetrics } from './worker-metrics';

/**
 * The worker's execution engine in the application: at bootstrap it makes
 * sure `/assign/<me>` exists, registers the member node, then watches the
 * inbox. A lost session aborts every task held (`session_lost`); the next
 * session lists the inbox again (GroupMembership registers again by itself).
 */
@Injectable()
export class WorkerEngine implements OnApplicationBootstrap {
  private readonly logger = new Logger(WorkerEngine.name);
  private readonly executor: TaskExecutor;
  /** `/assign/<me>`, listed again whenever it changes (and after every new session). */
  private readonly inbox: WatchedRead;
  private started = false;

  constructor(
    private readonly client: ZkClient,
    private readonly config: AppConfig,
    private readonly registration: MemberRegistration<WorkerInfo>,
    writes: WriteBatcher,
    audit: AuditWriter,
    handlers: HandlerRegistry,
    registry: Registry,
  ) {
    this.executor = new TaskExecutor({
      workerId: config.memberId,
      capacity: config.worker.capacity,
      client,
      writes,
      audit,
      handlers,
      metrics: new WorkerMetrics(
        registry,
        () => this.executor.held,
        (type) => handlers.get(type) !== undefined,
      ),
      // Called only once running, after the watcher below exists.
      relist: () => this.inbox.trigger(),
    });
    this.inbox = new WatchedRead(client, (watcher) => this.listInbox(watcher), {
      retryDelayMs: 200,
      onError: (error) =>
        this.logger.warn({ msg: 'listing assignments failed; retrying', error: String(error) }),
    });
  }

  /** Tasks whose handler runs now. */
  get running(): number {
    return this.executor.running;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.client.mkdirp(ZkLayout.assignments(this.config.memberId));
    // Registered first: if the id is taken by a live worker, this one fails to
    // start before it has touched that worker's inbox. The first listing sees
    // whatever was assigned in between.
    await this.registration.register();
    this.client.on('lost', this.onSessionLost);
    void this.inbox.start();
    this.started = true;
    this.logger.log({
      msg: 'worker registered and watching its assignments',
      workerId: this.config.memberId,
      capacity: this.config.worker.capacity,
    });
  }

  /**
   * Shutdown: hands back what has not started, lets running tasks finish for
   * `graceMs`, hands back the rest, and stops watching.
   */
  async drain(graceMs: number): Promise<{ handedBack: number }> {
    if (!this.started) return { handedBack: 0 };
    const result = await this.executor.drain(graceMs);
    await this.inbox.close();
    this.client.off('lost', this.onSessionLost);
    return result;
  }

  private readonly onSessionLost = (): void => this.executor.dropAll();

  private async listInbox(watcher: Watcher): Promise<void> {
    const path = ZkLayout.assignments(this.config.memberId);
    try {
      this.executor.onListing((await this.client.children(path, watcher)).children);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      // Our inbox was removed under us: make it again, then look.
      await this.client.mkdirp(path);
      this.inbox.trigger();
    }
  }
}
