import { isConnectionProblem, type ZkClient } from '@app/zk';

/**
 * Runs `read` (which sets a one-shot watch with `watcher`) now, again whenever
 * the watch fires, after every reconnect and new session, and — while the
 * connection is up — after a failure. Concurrent triggers coalesce into one
 * more read; `minIntervalMs` spaces reads out under heavy churn. `isStale` is
 * true until a read has succeeded since the last connection trouble.
 */
export class WatchedRead {
  /** Pass this to the client as the watcher: the same function each time, so it is set once. */
  readonly watcher = (): void => this.trigger();
  private reading = false;
  private again = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRead = 0;
  private staleValue = true;
  private firstRead: Promise<void>;
  private resolveFirst!: () => void;

  private readonly onConnected = (): void => this.trigger();
  private readonly onTrouble = (): void => {
    this.staleValue = true;
  };

  constructor(
    private readonly client: ZkClient,
    private readonly read: (watcher: () => void) => Promise<void>,
    private readonly minIntervalMs = 0,
  ) {
    this.firstRead = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  get isStale(): boolean {
    return this.staleValue;
  }

  /** Starts reading; resolves after the first successful read. */
  start(): Promise<void> {
    this.client.on('connected', this.onConnected);
    this.client.on('reconnected', this.onConnected);
    this.client.on('suspended', this.onTrouble);
    this.client.on('lost', this.onTrouble);
    this.trigger();
    return this.firstRead;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.client.off('connected', this.onConnected);
    this.client.off('reconnected', this.onConnected);
    this.client.off('suspended', this.onTrouble);
    this.client.off('lost', this.onTrouble);
    this.resolveFirst();
  }

  trigger(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    const wait = this.lastRead + this.minIntervalMs - Date.now();
    if (wait > 0) {
      if (this.timer === undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.trigger();
        }, wait);
      }
      return;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    this.reading = true;
    this.again = false;
    this.lastRead = Date.now();
    try {
      await this.read(this.watcher);
      this.staleValue = false;
      this.resolveFirst();
    } catch (error) {
      // Connection trouble: `connected`/`reconnected` triggers the next read. Anything
      // else (or a connection that is already back): try again shortly.
      if (!isConnectionProblem(error) || this.client.isConnected) this.again = true;
    } finally {
      this.reading = false;
    }
    if (this.again && !this.closed) {
      this.again = false;
      if (this.minIntervalMs === 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.trigger();
        }, 100);
      } else this.trigger();
    }
  }
}
