import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { posix } from 'node:path';
import { Registry } from 'prom-client';
import {
  NoNodeError,
  PersistentWatcher,
  WatchedRead,
  ZkClient,
  type WatchEvent,
  type Watcher,
} from '@app/zk';
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
  /** `/assign/<me>`, listed again whenever it changes (and after every new session). */
  private readonly inbox: WatchedRead;
  /**
   * Every creation and deletion in `/assign/<me>`, by name (ZooKeeper 3.6+):
   * each triggers a listing, and a new note is read at once, in the same round
   * trip as that listing (a listing tells which nodes exist, not what they hold).
   */
  private readonly inboxChanges: PersistentWatcher;
  /**
   * True once the persistent watch is set: listings then arm no watch of their
   * own. ZooKeeper before 3.9 loses a session's one-shot watch on a path when
   * the session adds a persistent one there (ZOOKEEPER-4466): the listing's
   * children watch would stop firing after every new session.
   */
  private persistent = false;
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
    this.inbox = new WatchedRead(client, (watcher) => this.listInbox(watcher), {
      retryDelayMs: 200,
      onError: (error) =>
        this.logger.warn({ msg: 'listing assignments failed; retrying', error: String(error) }),
    });
    this.inboxChanges = new PersistentWatcher(client, this.inboxPath, {
      onError: (error) =>
        this.logger.warn({ msg: 'watching the inbox failed; retrying', error: String(error) }),
    });
    this.inboxChanges.on('change', this.onInboxChange);
    // Set again after connection trouble: what changed meanwhile was not reported.
    this.inboxChanges.on('reset', () => this.inbox.trigger());
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
    await Promise.all([this.inbox.close(), this.inboxChanges.close()]);
    this.client.off('lost', this.onSessionLost);
    return result;
  }

  private readonly onSessionLost = (): void => this.executor.dropAll();

  /** The persistent watch first (see `persistent`), then the listings. */
  private async watchInbox(): Promise<void> {
    this.persistent = await this.inboxChanges.start();
    if (!this.persistent) {
      this.logger.log({
        msg: 'ZooKeeper older than 3.6: new assignments are read after a listing',
      });
    }
    if (!this.closing) await this.inbox.start();
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

  private async listInbox(watcher: Watcher): Promise<void> {
    try {
      const own = this.persistent ? undefined : watcher;
      const { children } = await this.client.children(this.inboxPath, own);
      this.executor.onListing(children);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      // Our inbox was removed under us: make it again, then look.
      await this.client.mkdirp(this.inboxPath);
      this.inbox.trigger();
    }
  }
}
