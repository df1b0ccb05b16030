import { AuditDatabase, AuditUnavailableError, TypeOrmAuditStore } from '@app/audit';
import { TestingPostgres } from '@app/audit/testing';
import { auditEvent, openStore, succeedingTask } from './support/audit-fixtures';

/**
 * A PostgreSQL of its own (TestingPostgres), stopped, killed and restarted
 * under a live store: calls fail promptly and clearly while it is down, the
 * same store works again once it is back (the pool reconnects), no data is
 * lost; and a store started while PostgreSQL is down connects when it comes.
 */

let postgres: TestingPostgres;

beforeAll(async () => {
  postgres = await TestingPostgres.start();
});

afterAll(async () => {
  await postgres?.close();
});

test('TestingPostgres keeps its data across stop/start and kill/start, on the same port', async () => {
  const url = await postgres.createDatabase('harness');
  expect(url).toBe(`postgres://postgres@127.0.0.1:${postgres.port}/harness`);
  const { database, store } = await openStore(url);
  try {
    await store.append(succeedingTask('t-1', 'job-1', 'w-1'));
    const pid = postgres.pid;
    await postgres.stop();
    expect(postgres.running).toBe(false);
    await postgres.start();
    expect(postgres.pid).not.toBe(pid);
    expect((await store.taskHistory('t-1'))?.state).toBe('succeeded');

    await store.append([auditEvent('task.created', { taskId: 't-2' })]);
    await postgres.kill();
    await postgres.start();
    // The commit before the kill is there (crash recovery), and the store carries on.
    expect((await store.taskHistory('t-2'))?.state).toBe('pending');
    expect(await store.append([auditEvent('task.created', { taskId: 't-3' })])).toBe(1);
  } finally {
    await database.close();
  }
});

test('PostgreSQL down: append rejects at once with AuditUnavailableError and ping is false; back up: the same store works', async () => {
  const url = await postgres.createDatabase('outage');
  const { database, store } = await openStore(url);
  try {
    const before = succeedingTask('before', 'job-1', 'w-1');
    await store.append(before);
    expect(await store.ping()).toBe(true);

    await postgres.stop();
    const during = succeedingTask('during', 'job-1', 'w-1');
    const startedAt = Date.now();
    const failure = await store.append(during).catch((error: unknown) => error);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(failure).toBeInstanceOf(AuditUnavailableError);
    expect((failure as Error).message).toMatch(/^PostgreSQL is unavailable: .*ECONNREFUSED/);
    expect(await store.ping()).toBe(false);
    await expect(store.query({ limit: 10 })).rejects.toBeInstanceOf(AuditUnavailableError);

    await postgres.start();
    expect(await store.ping()).toBe(true);
    // The drain retries the batch that failed: it lands once, after the earlier one.
    expect(await store.append(during)).toBe(4);
    expect(await store.append([...before, ...during])).toBe(0);
    const events = (await store.query({ limit: 100 })).events;
    expect(events.map((event) => event.id)).toEqual([...before, ...during].map((e) => e.id));
    expect((await store.taskHistory('during'))?.state).toBe('succeeded');
  } finally {
    await database.close();
  }
});

test('a store started while PostgreSQL is down says why, then connects and migrates when it starts', async () => {
  await postgres.createDatabase('late');
  await postgres.stop();
  const warnings: string[] = [];
  const database = new AuditDatabase({
    url: postgres.url('late'),
    connectTimeoutMs: 1_000,
    retryDelayMs: 50,
    maxRetryDelayMs: 200,
    logger: {
      info: () => undefined,
      warn: (_message, context) => warnings.push(String(context?.error)),
    },
  });
  const store = new TypeOrmAuditStore(database.dataSource, {
    assertReady: () => database.assertReady(),
  });
  try {
    database.start();
    expect(database.state).toBe('connecting');
    await expect(store.append([auditEvent('job.created', { jobId: 'j' })])).rejects.toThrow(
      AuditUnavailableError,
    );
    expect(await store.ping()).toBe(false);
    await postgres.start();
    await database.whenReady();
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatch(/ECONNREFUSED/);
    expect(await store.append([auditEvent('job.created', { jobId: 'j' })])).toBe(1);
    expect(await store.ping()).toBe(true);
  } finally {
    if (!postgres.running) await postgres.start();
    await database.close();
  }
});

test('the same store survives the server being stopped and started again while idle connections sit in its pool', async () => {
  const url = await postgres.createDatabase('pool');
  const { database, store } = await openStore(url);
  try {
    // Several connections in the pool, all cut by the restart.
    await Promise.all(Array.from({ length: 5 }, () => store.lastSeq()));
    await postgres.stop();
    await postgres.start();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        store.append([auditEvent('task.created', { taskId: `p-${i}` })]),
      ),
    );
    expect(results).toEqual([1, 1, 1, 1, 1]);
  } finally {
    await database.close();
  }
});
