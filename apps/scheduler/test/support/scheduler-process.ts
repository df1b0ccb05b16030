import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { httpAdapter, initHttpApplication } from '@app/common';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { SchedulerModule } from '../../src/scheduler.module';
import { SchedulerLeadership } from '../../src/leadership/scheduler-leadership';

export interface InProcessScheduler {
  app: INestApplicationContext;
  leadership: SchedulerLeadership;
  close(): Promise<void>;
}

/**
 * A scheduler replica inside the test process (its own ZooKeeper session). The
 * environment is read when the module is created, so each replica gets its own.
 */
export async function startScheduler(env: Record<string, string>): Promise<InProcessScheduler> {
  const database = await historyDatabase();
  const saved = { ...process.env };
  Object.assign(process.env, {
    LOG_LEVEL: 'warn',
    HTTP_PORT: '0',
    GRPC_PORT: '0',
    DATABASE_URL: database.url,
    ...env,
  });
  try {
    const moduleRef = await Test.createTestingModule({ imports: [SchedulerModule] }).compile();
    const app = moduleRef.createNestApplication(httpAdapter(), { logger: false });
    await initHttpApplication(app);
    const leadership = app.get(SchedulerLeadership);
    return { app, leadership, close: () => app.close() };
  } finally {
    process.env = saved;
  }
}

/**
 * The task history of the replicas of one test file (they only read it): a
 * fresh database on the shared server, made on first use, dropped after the
 * file's tests.
 */
let database: Promise<TestDatabase> | undefined;

function historyDatabase(): Promise<TestDatabase> {
  database ??= createTestDatabase('zk_sched');
  return database;
}

afterAll(async () => {
  const created = database;
  database = undefined;
  if (created) await (await created).drop();
});
