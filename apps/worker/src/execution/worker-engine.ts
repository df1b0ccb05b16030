import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { posix } from 'node:path';
import { Registry } from 'prom-client';
import { NoNodeError, PersistentListing, ZkClient, type WatchEvent, type Watcher } from '@app/zk';
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
  /** `/assign/<me>`. */
  private readonly inboxPath: string;
  /**
   * `/assign/<me>`, listed again whenever it changes (and after every new
   * session). Its persistent watch (ZooKeeper 3.6+) names every creation and
   * deletion: each triggers a listing, and a new note is read at once, in the
   * same round trip as that listing (a listing tells which nodes exist, not
   * what they hold).
   */
  private readonly inbox: PersistentListing;
  private started = false;
  private closing = false;

  constructor(
    private readonly client: ZkClient,
    private readonly config: AppConfig,
    private readonly registration: MemberRegistration<WorkerInfo>,
    writes: WriteBatcher,
    audit: AuditWriter,
    handlers: HandlerRegistry,
    registry: Registry,
  ) {
    this.inboxPath = ZkLayout.assignments(config.memberId);
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
    this.inbox = new PersistentListing(
      client,
      this.inboxPath,
      (watcher) => this.listInbox(watcher),
      {
        retryDelayMs: 200,
        onError: (error, during) =>
          this.logger.warn({
            msg:
              during === 'listing'
                ? 'listing assignments failed; retrying'
                : 'watching the inbox failed; retrying',
            error: String(error),
          }),
      },
    );
    this.inbox.on('change', this.onInboxChange);
  }

  /** Tasks whose handler runs now. */
  get running(): number {
    return this.executor.running;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.client.mkdirp(this.inboxPath);
    // Registered first: if the id is taken by a live worker, this one fails to
    // start before it has touched that worker's inbox. The first listing sees
    // whatever was assigned in between.
    await this.registration.register();
    this.client.on('lost', this.onSessionLost);
    void this.watchInbox();
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
    this.closing = true;
    await this.inbox.close();
    this.client.off('lost', this.onSessionLost);
    return result;
  }

  private readonly onSessionLost = (): void => this.executor.dropAll();

  private async watchInbox(): Promise<void> {
    if (!(await this.inbox.start()) && !this.closing) {
      this.logger.log({
        msg: 'ZooKeeper older than 3.6: new assignments are read after a listing',
      });
    }
  }

  /**
   * An assignment created or deleted: a listing. A note created: read now (its
   * assignments, created in the same transaction, trigger the listing); a note
   * deleted (by this worker, once read) changes nothing.
   */
  private readonly onInboxChange = (event: WatchEvent): void => {
    if (event.type === 'dataChanged' || posix.dirname(event.path) !== this.inboxPath) return;
    const name = posix.basename(event.path);
    if (!ZkLayout.isAssignmentNote(name)) this.inbox.trigger();
    else if (event.type === 'created') this.executor.onNoteCreated(name);
  };

  private async listInbox(watcher: Watcher | undefined): Promise<void> {
    try {
      const { children } = await this.client.children(this.inboxPath, watcher);
      this.executor.onListing(children);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      // Our inbox was removed under us: make it again, then look.
      await this.client.mkdirp(this.inboxPath);
      this.inbox.trigger();
    }
  }
}
