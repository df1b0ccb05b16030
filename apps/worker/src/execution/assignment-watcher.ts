import { Logger } from '@nestjs/common';
import {
  ClientClosedError,
  NoNodeError,
  SessionExpiredError,
  type WatchEvent,
  type ZkClient,
} from '@app/zk';
import { ZkLayout } from '@app/contracts';

const RETRY_DELAY_MS = 200;

/**
 * Lists `/assign/<worker>` with one children watch, re-armed by each listing
 * with the same watcher function (so a second registration on the path is a
 * no-op), and hands every listing to `onListing`. Listings never overlap: a
 * change during one makes exactly one more.
 *
 * After a session loss the watch is gone with the session: the next
 * `connected` lists again, which re-arms it. `reconnected` (same session)
 * lists too, in case a change fell in the gap.
 */
export class AssignmentWatcher {
  private readonly logger = new Logger(AssignmentWatcher.name);
  private readonly path: string;
  private running = false;
  private listing = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ZkClient,
    workerId: string,
    private readonly onListing: (children: readonly string[]) => void,
  ) {
    this.path = ZkLayout.assignments(workerId);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.client.on('connected', this.onSession);
    this.client.on('reconnected', this.onSession);
    this.refresh();
  }

  /** Stops listing; resolves once a listing in progress has been delivered. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.client.off('connected', this.onSession);
    this.client.off('reconnected', this.onSession);
    await this.idle;
  }

  /** Lists again soon (coalesced with any listing in progress). */
  refresh(): void {
    if (!this.running) return;
    if (this.listing) {
      this.again = true;
      return;
    }
    this.listing = true;
    this.idle = this.loop();
  }

  private readonly onSession = (): void => this.refresh();

  private readonly onChildrenChanged = (event: WatchEvent): void => {
    if (event.type === 'childrenChanged' || event.type === 'deleted') this.refresh();
  };

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        if (!this.running) return;
        const children = await this.list();
        if (children === undefined || !this.running) return;
        this.onListing(children);
      } while (this.again);
    } finally {
      this.listing = false;
    }
  }

  private async list(): Promise<string[] | undefined> {
    try {
      return (await this.client.children(this.path, this.onChildrenChanged)).children;
    } catch (error) {
      if (error instanceof SessionExpiredError || error instanceof ClientClosedError) {
        return undefined; // the next session's `connected` lists again
      }
      if (error instanceof NoNodeError) {
        // Our inbox was removed under us: make it again, then look.
        await this.client.mkdirp(this.path).catch(() => undefined);
      } else {
        this.logger.warn({ msg: 'listing assignments failed; retrying', error: String(error) });
      }
      this.retryTimer = setTimeout(() => this.refresh(), RETRY_DELAY_MS);
      return undefined;
    }
  }
}
