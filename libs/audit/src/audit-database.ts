import type { DataSource } from 'typeorm';
import { AuditUnavailableError } from './audit-errors';
import { createAuditDataSource, type AuditDataSourceSettings } from './audit-data-source';
import { ensureDatabase, redactDatabaseUrl, withMigrationLock } from './postgres-admin';

export interface AuditLogger {
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
}

export interface AuditDatabaseOptions extends AuditDataSourceSettings {
  logger?: AuditLogger;
  /** First delay between connection attempts (default 500 ms), doubled up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  /** Default 10 s. */
  maxRetryDelayMs?: number;
}

export type AuditDatabaseState = 'latent' | 'connecting' | 'ready' | 'closed';

const SILENT: AuditLogger = { info: () => undefined, warn: () => undefined };

/**
 * The audit database's connection, started without waiting for PostgreSQL.
 *
 * `start()` returns at once and connects in the background: creates the
 * database if it is missing, then initialises the TypeORM data source, which
 * runs the migrations (under an advisory lock, so concurrent starts take
 * turns). A failed attempt is logged (URL without its password) and retried
 * with a doubling delay, forever, until `close()`.
 *
 * Why not fail the start: PostgreSQL holds history only. A registry without
 * it still serves the cluster view, its readiness check says `postgresql`
 * is down, and the drain backs off while events wait in ZooKeeper. Once
 * connected, the pool replaces connections that break, so a PostgreSQL
 * restart needs nothing from here.
 */
export class AuditDatabase {
  readonly dataSource: DataSource;
  private currentState: AuditDatabaseState = 'latent';
  private lastError: string | undefined;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private markClosed!: (reason: Error) => void;
  private readonly logger: AuditLogger;

  /** `dataSource`: one made from the same options elsewhere (TypeOrmModule), not initialised. */
  constructor(
    private readonly options: AuditDatabaseOptions,
    dataSource?: DataSource,
  ) {
    this.dataSource = dataSource ?? createAuditDataSource(options);
    this.logger = options.logger ?? SILENT;
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.markClosed = reject;
    });
    // Nobody may be waiting: a close before the connection is no error by itself.
    this.ready.catch(() => undefined);
  }

  get state(): AuditDatabaseState {
    return this.currentState;
  }

  get isReady(): boolean {
    return this.currentState === 'ready';
  }

  /** The database URL with its password masked. */
  get displayUrl(): string {
    return redactDatabaseUrl(this.options.url);
  }

  start(): void {
    if (this.currentState !== 'latent') throw new Error(`AuditDatabase is ${this.currentState}`);
    this.currentState = 'connecting';
    this.tryNow();
  }

  /** Resolves once connected and migrated; rejects when closed, or `signal` aborts, first. */
  whenReady(signal?: AbortSignal): Promise<void> {
    if (signal === undefined) return this.ready;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.ready.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** Throws AuditUnavailableError unless connected and migrated. */
  assertReady(): void {
    if (this.currentState === 'ready') return;
    const why =
      this.currentState === 'closed'
        ? 'the audit database is closed'
        : `not connected to PostgreSQL yet${this.lastError === undefined ? '' : ` (${this.lastError})`}`;
    throw new AuditUnavailableError(why);
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    clearTimeout(this.timer);
    this.markClosed(new AuditUnavailableError('the audit database was closed before it connected'));
    await this.attempt;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /** Re-read after each await: close() may have run meanwhile. */
  private get closed(): boolean {
    return this.currentState === 'closed';
  }

  /** An error message can quote what it was given: never the password. */
  private scrub(message: string): string {
    let password = '';
    try {
      password = decodeURIComponent(new URL(this.options.url).password);
    } catch {
      // Unparsable: nothing to look for.
    }
    return password === '' ? message : message.replaceAll(password, '***');
  }

  private tryNow(): void {
    this.attempt = this.connect().finally(() => (this.attempt = undefined));
  }

  private async connect(): Promise<void> {
    this.attempts += 1;
    const { url, connectTimeoutMs } = this.options;
    try {
      const created = await ensureDatabase(url, connectTimeoutMs);
      if (created) this.logger.info('created the audit database', { url: this.displayUrl });
      if (this.closed) return;
      await withMigrationLock(url, () => this.dataSource.initialize(), connectTimeoutMs);
    } catch (error: unknown) {
      if (this.closed) return;
      const delayMs = Math.min(
        (this.options.retryDelayMs ?? 500) * 2 ** Math.min(this.attempts - 1, 16),
        this.options.maxRetryDelayMs ?? 10_000,
      );
      this.lastError = this.scrub(error instanceof Error ? error.message : String(error));
      this.logger.warn('PostgreSQL is not available for the audit history; retrying', {
        url: this.displayUrl,
        error: this.lastError,
        attempt: this.attempts,
        retryInMs: delayMs,
      });
      this.timer = setTimeout(() => this.tryNow(), delayMs);
      this.timer.unref();
      return;
    }
    if (this.closed) {
      await this.dataSource.destroy();
      return;
    }
    this.currentState = 'ready';
    this.lastError = undefined;
    this.logger.info('connected to PostgreSQL; audit schema migrated', {
      url: this.displayUrl,
      attempts: this.attempts,
    });
    this.markReady();
  }
}
