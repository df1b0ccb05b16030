import { redactUrl } from '@app/common/logging/redact-url';
/**
 * Plain node-postgres chores around the audit database, without TypeORM (so
 * `npm start`'s orchestrator can use them cheaply): URLs, creating the
 * database, the migration lock.
 */
import { Client, type ClientConfig } from 'pg';

/** The database named in `url` (`zk_scheduler` for `postgres://…/zk_scheduler`). */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (name === '') throw new Error('the database URL names no database');
  return name;
}

/** `url` with its password masked (user info and `?password=`): safe to log. */
export function redactDatabaseUrl(url: string): string {
  return redactUrl(url) ?? '<unparsable database URL>';
}

/** `url` pointed at another database of the same server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

function clientConfig(url: string, connectTimeoutMs: number): ClientConfig {
  return { connectionString: url, connectionTimeoutMillis: connectTimeoutMs };
}

const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Creates the database named in `url` when it does not exist, connecting to
 * the server's `postgres` database for that. A database that exists needs no
 * access to `postgres` (a managed server may refuse it). Safe to race: a
 * concurrent creation by another process counts as success.
 * @returns true when this call created it
 */
export async function ensureDatabase(url: string, connectTimeoutMs = 5_000): Promise<boolean> {
  const probe = new Client(clientConfig(url, connectTimeoutMs));
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return false;
  } catch (error: unknown) {
    if (sqlState(error) !== INVALID_CATALOG_NAME) throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new Client(clientConfig(withDatabase(url, 'postgres'), connectTimeoutMs));
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(databaseName(url))}`);
    return true;
  } catch (error: unknown) {
    const state = sqlState(error);
    if (state === DUPLICATE_DATABASE || state === UNIQUE_VIOLATION) return false;
    throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Key of the session advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 0x7a6b_6175; // 'zkau'

/**
 * Runs `work` (initialising a data source, which runs the migrations) while
 * holding a PostgreSQL advisory lock on the target database: two services
 * starting at once do not run the same migration twice (TypeORM takes no lock
 * of its own). The lock is a session lock on a connection of its own, so it
 * is released even if this process dies.
 */
export async function withMigrationLock<T>(
  url: string,
  work: () => Promise<T>,
  connectTimeoutMs = 5_000,
): Promise<T> {
  const client = new Client(clientConfig(url, connectTimeoutMs));
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await work();
  } finally {
    // Ending the session releases the lock as well.
    await client.end().catch(() => undefined);
  }
}
