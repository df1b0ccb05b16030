/**
 * TaskRetention on a real ZooKeeper and PostgreSQL: a finished task leaves
 * ZooKeeper (with its idempotency node) once its ending event is stored and
 * its delay has passed, its final record kept in task_history; live tasks are
 * never touched; tasks found by the scan wait for the drain to pass them;
 * stale gang barriers are swept; a deposed drainer removes nothing.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { NotLeaderError, Op, ZkClient } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import { PERSISTENT_PARENTS, ZkLayout, type TaskRecord, type TaskState } from '@app/contracts';
import { AuditDatabase, TypeOrmAuditStore, type AuditStore } from '@app/audit';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { encodeJson, newTaskRecord } from '@app/store';
import { DrainMetrics } from '../../src/audit-drain/drain-metrics';
import { TaskRetention } from '../../src/retention/task-retention';
import { syntheticEvent } from '../support/outbox-fixtures';

let server: TestingServer;
let database: TestDatabase;
let audit: AuditDatabase;
let store: AuditStore;
let zk: ZkClient;
let retention: TaskRetention | undefined;

beforeAll(async () => {
  [server, database] = await Promise.all([
    TestingServer.start(),
    createTestDatabase('zk_retention'),
  ]);
  audit = new AuditDatabase({ url: database.url });
  audit.start();
  await audit.whenReady();
  store = new TypeOrmAuditStore(audit.dataSource, { assertReady: () => audit.assertReady() });
}, timing.ms(60_000));

beforeEach(async () => {
  zk = new ZkClient({
    connectString: server.connectString,
    root: `/retention-${randomUUID()}`,
    sessionTimeoutMs: 2_000,
  });
  await zk.start();
  await Promise.all(PERSISTENT_PARENTS.map((path) => zk.mkdirp(path)));
});

afterEach(async () => {
  await retention?.stop();
  retention = undefined;
  await zk.close();
});

afterAll(async () => {
  await audit?.close();
  await database?.drop();
  await server?.close();
});

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function startRetention(
  options: {
    retentionMs?: number;
    committedThrough?: () => number;
    commit?: (ops: Parameters<ZkClient['multi']>[0]) => ReturnType<ZkClient['multi']>;
  } = {},
): TaskRetention {
  retention = new TaskRetention({
    client: zk,
    store,
    commit: options.commit ?? ((ops) => zk.multi(ops)),
    retentionMs: options.retentionMs ?? 300,
    committedThrough: options.committedThrough ?? (() => Number.MAX_SAFE_INTEGER),
    metrics: new DrainMetrics(new Registry()),
    logger: silent,
  });
  retention.start();
  return retention;
}

async function writeTask(state: TaskState, fields: Partial<TaskRecord> = {}): Promise<TaskRecord> {
  const now = Date.now();
  const record: TaskRecord = {
    ...newTaskRecord({ type: 'noop', payload: { n: 1 } }, now),
    state,
    attempt: 1,
    workerId: 'worker-1',
    assignedAt: now,
    ...(state === 'succeeded' || state === 'failed' || state === 'cancelled'
      ? { finishedAt: now }
      : {}),
    ...fields,
  };
  const ops = [Op.create(ZkLayout.task(record.id), encodeJson(record))];
  if (record.idempotencyKey !== undefined) {
    ops.push(Op.create(ZkLayout.idempotency(record.idempotencyKey), record.id));
  }
  await zk.multi(ops);
  return record;
}

async function exists(path: string): Promise<boolean> {
  return (await zk.exists(path)) !== null;
}

it('retires a finished task once its ending event is stored and its delay is over; live tasks stay', async () => {
  const done = await writeTask('succeeded', {
    idempotencyKey: `key-${randomUUID()}`,
    result: { ok: 1 },
  });
  const retrying = await writeTask('retrying', { failures: 1, retryAt: Date.now() + 60_000 });
  const running = await writeTask('running', { startedAt: Date.now() });
  const events = [
    syntheticEvent('task.succeeded', { taskId: done.id, attempt: 1, time: done.finishedAt }),
    syntheticEvent('task.failed', { taskId: retrying.id, attempt: 1, time: Date.now() }),
    syntheticEvent('task.timed_out', { taskId: running.id, attempt: 1, time: Date.now() }),
  ];
  await store.append(events);
  const began = Date.now();
  startRetention({ retentionMs: 600 }).onDrained(events);

  await timing.waitFor(async () => !(await exists(ZkLayout.task(done.id))), { message: 'retired' });
  expect(Date.now() - began).toBeGreaterThanOrEqual(600 - (began - done.finishedAt!) - 20);
  expect(await exists(ZkLayout.idempotency(done.idempotencyKey!))).toBe(false);
  expect((await store.taskHistory(done.id))?.record).toEqual(done);
  await timing.sleep(300);
  expect(await exists(ZkLayout.task(retrying.id))).toBe(true);
  expect(await exists(ZkLayout.task(running.id))).toBe(true);
  expect((await store.taskHistory(retrying.id))?.record).toBeUndefined();
});

it('retires what an earlier drainer left only once the drain has stored the outbox up to it', async () => {
  const left = [await writeTask('failed'), await writeTask('cancelled', { attempt: 0 })];
  // Their ending events may still be in this outbox node: the scan takes its number as the watermark.
  const [created] = await zk.multi([
    Op.create(ZkLayout.outboxEntryPrefix, encodeJson({ events: [] }), 'persistent_sequential'),
  ]);
  const watermark = Number((created as { path: string }).path.slice(-10));
  let through = watermark - 1;
  const started = startRetention({ retentionMs: 0, committedThrough: () => through });
  await timing.sleep(500);
  for (const task of left) expect(await exists(ZkLayout.task(task.id))).toBe(true);
  through = watermark;
  started.onDrained([]);
  await timing.waitFor(
    async () =>
      !(await exists(ZkLayout.task(left[0].id))) && !(await exists(ZkLayout.task(left[1].id))),
    { message: 'retired after the drain passed them' },
  );
  expect((await store.taskHistory(left[1].id))?.record?.state).toBe('cancelled');
});

it('sweeps the barriers of finished tasks and of past attempts, not of a live attempt', async () => {
  const finished = await writeTask('succeeded', { parallelism: 2 });
  const live = await writeTask('running', { parallelism: 2, attempt: 2 });
  for (const path of [
    ZkLayout.barrier(finished.id, 1),
    ZkLayout.barrier(live.id, 1),
    ZkLayout.barrier(live.id, 2),
  ]) {
    await zk.mkdirp(`${path}/ready`);
  }
  // A member still inside a live barrier (its node is ephemeral in real life).
  await zk.create(`${ZkLayout.barrier(live.id, 2)}/member-1`);
  startRetention({ retentionMs: 60_000 });
  await timing.waitFor(
    async () =>
      !(await exists(ZkLayout.barrier(finished.id, 1))) &&
      !(await exists(ZkLayout.barrier(live.id, 1))),
    { message: 'stale barriers swept' },
  );
  expect(await exists(`${ZkLayout.barrier(live.id, 2)}/ready`)).toBe(true);
  expect(await exists(ZkLayout.task(finished.id))).toBe(true); // its 60 s are not over
});

it('removes nothing once its drain leadership has ended (fenced)', async () => {
  const done = await writeTask('succeeded');
  const event = syntheticEvent('task.succeeded', { taskId: done.id, time: done.finishedAt });
  await store.append([event]);
  let refused = 0;
  startRetention({
    retentionMs: 0,
    commit: () => {
      refused += 1;
      return Promise.reject(new NotLeaderError());
    },
  }).onDrained([event]);
  await timing.waitFor(() => refused > 0, { message: 'a fenced write was tried' });
  await timing.sleep(200);
  expect(await exists(ZkLayout.task(done.id))).toBe(true);
  expect(refused).toBe(1); // it stopped at the first refusal
});
