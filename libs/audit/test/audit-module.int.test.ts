import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import request from 'supertest';
import {
  AppConfigModule,
  HealthModule,
  httpAdapter,
  initHttpApplication,
  type ServiceDescriptor,
} from '@app/common';
import { freePort, timing } from '@app/zk/testing';
import {
  AUDIT_MIGRATIONS,
  AUDIT_STORE,
  AuditDatabase,
  AuditUnavailableError,
  withDatabase,
  type AuditStore,
} from '@app/audit';
import { AuditModule } from '@app/audit/audit.module';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { auditEvent } from './support/audit-fixtures';

/**
 * AuditModule in a Nest application: migrations at start (twice on one
 * database is fine), the `postgresql` readiness check, and a start without
 * PostgreSQL that neither fails nor logs the password.
 */

const SERVICE: ServiceDescriptor = { name: 'registry', defaultHttpPort: 3001 };

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, ...rest: unknown[]): void {
    this.lines.push(JSON.stringify([message, ...rest]));
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.log(message, ...rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.log(message, ...rest);
  }
}

async function boot(databaseUrl: string, logger?: LoggerService): Promise<INestApplication> {
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = databaseUrl;
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppConfigModule.forRoot(SERVICE),
        HealthModule,
        AuditModule.forRoot({ requiredForReadiness: true }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication(httpAdapter(), { logger: logger ?? false });
    await initHttpApplication(app);
    return app;
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

let testDatabase: TestDatabase;

beforeAll(async () => {
  testDatabase = await createTestDatabase('zk_audit_module');
});

afterAll(async () => {
  await testDatabase?.drop();
});

test('boots twice on the same database: the migrations run once, the store works, readiness is up', async () => {
  for (const round of [1, 2]) {
    const app = await boot(testDatabase.url);
    try {
      await app.get(AuditDatabase).whenReady();
      const store = app.get<AuditStore>(AUDIT_STORE);
      expect(await store.append([auditEvent('job.created', { jobId: `job-${round}` })])).toBe(1);
      expect((await store.query({ limit: 10 })).events).toHaveLength(round);
      const migrations = (await app
        .get(AuditDatabase)
        .dataSource.query('SELECT name FROM migrations')) as Array<{ name: string }>;
      expect(migrations.map((m) => m.name)).toEqual(AUDIT_MIGRATIONS.map((m) => m.name));
      const ready = await request(app.getHttpServer()).get('/health/ready').expect(200);
      expect(ready.body.details).toMatchObject({ postgresql: { status: 'up' } });
    } finally {
      await app.close();
    }
  }
});

test('the entities describe exactly the schema the migrations made', async () => {
  const app = await boot(testDatabase.url);
  try {
    const { dataSource } = app.get(AuditDatabase);
    await app.get(AuditDatabase).whenReady();
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  } finally {
    await app.close();
  }
});

test('creates a missing database at start', async () => {
  const name = `${testDatabase.name}_new`;
  const url = withDatabase(testDatabase.url, name);
  const app = await boot(url);
  try {
    await app.get(AuditDatabase).whenReady();
    expect(await app.get<AuditStore>(AUDIT_STORE).lastSeq()).toBe('0');
  } finally {
    await app.close();
    const client = new Client({ connectionString: withDatabase(testDatabase.url, 'postgres') });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    await client.end();
  }
});

test('starts without PostgreSQL: not ready, calls fail with the reason, the password is never logged', async () => {
  const port = await freePort();
  const secret = 's3cr3t-Pa55';
  const logger = new CapturingLogger();
  const startedAt = Date.now();
  const app = await boot(`postgres://audit:${secret}@127.0.0.1:${port}/zk_scheduler`, logger);
  try {
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    const database = app.get(AuditDatabase);
    expect(database.isReady).toBe(false);
    const ready = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(JSON.stringify(ready.body)).toContain('postgresql');
    const failure = await app
      .get<AuditStore>(AUDIT_STORE)
      .append([auditEvent('job.created')])
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuditUnavailableError);
    expect((failure as Error).message).toMatch(/not connected to PostgreSQL yet/);
    expect(database.displayUrl).toBe(`postgres://audit:***@127.0.0.1:${port}/zk_scheduler`);
    await timing.waitFor(() => logger.lines.some((line) => line.includes('retrying')), {
      timeoutMs: 5_000,
      message: 'a warning about PostgreSQL',
    });
  } finally {
    await app.close();
  }
  await expect(app.get(AuditDatabase).whenReady()).rejects.toThrow(/closed before it connected/);
  const logged = logger.lines.join('\n');
  expect(logged).toMatch(/PostgreSQL is not available for the audit history; retrying/);
  expect(logged).not.toContain(secret);
});

test('three processes starting at once on an empty database migrate it once (advisory lock)', async () => {
  const fresh = await createTestDatabase('zk_audit_race');
  const databases = [1, 2, 3].map(() => new AuditDatabase({ url: fresh.url, retryDelayMs: 5_000 }));
  try {
    databases.forEach((database) => database.start());
    // A long retry delay: each must succeed on its first attempt.
    await timing.withTimeout(
      Promise.all(databases.map((database) => database.whenReady())),
      4_000,
      'all three ready at the first attempt',
    );
    const migrations = (await databases[0].dataSource.query('SELECT name FROM migrations')) as [];
    expect(migrations).toHaveLength(AUDIT_MIGRATIONS.length);
  } finally {
    await Promise.all(databases.map((database) => database.close()));
    await fresh.drop();
  }
});
