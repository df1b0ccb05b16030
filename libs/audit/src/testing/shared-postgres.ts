/**
 * Fresh databases on the shared PostgreSQL server (TOOLCHAIN.md: 127.0.0.1:5432,
 * trust, user postgres) for tests that never stop PostgreSQL: cheaper than a
 * cluster of their own. `PG_TEST_URL` points elsewhere (any database of the
 * server; a database per call is created beside it).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from '../postgres-admin';

export const SHARED_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops it, cutting any session still connected. */
  drop(): Promise<void>;
}

function serverUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.PG_TEST_URL?.trim() || SHARED_POSTGRES_URL;
}

async function withAdmin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    connectionString: withDatabase(url, 'postgres'),
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates `<prefix>_<pid>_<random>` on the shared server. The pid in the name
 * says which test process made it, should one be left behind by a killed run.
 */
export async function createTestDatabase(prefix = 'zk_test'): Promise<TestDatabase> {
  const url = serverUrl();
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(url, (client) =>
    client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`),
  );
  return {
    name,
    url: withDatabase(url, name),
    drop: () =>
      withAdmin(url, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
      ).then(() => undefined),
  };
}
