/**
 * Reads of tasks that have left ZooKeeper (retention, invariant 6): `GET
 * /v1/tasks/:id` answers from `task_history.record` in the same shape, `GET
 * /v1/tasks` walks the live tasks then the retired ones; without PostgreSQL,
 * live tasks are still served and the rest is a 503. Retirement is done here
 * by hand as the registry does it (final record saved, then the znodes go).
 * PostgreSQL is a throwaway cluster, so that it can be stopped.
 */
import request from 'supertest';
import { status } from '@grpc/grpc-js';
import { Op } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import { TestingPostgres } from '@app/audit/testing';
import { AUDIT_STORE, type AuditStore } from '@app/audit';
import { ZkLayout, type TaskRecord } from '@app/contracts';
import type { ApiErrorBody, Page, TaskView } from '@app/contracts/dto/scheduler-api';
import { decodeJson } from '@app/store';
import { SchedulerClient, startApiApp, type ApiApp } from './support/api-app';

let server: TestingServer;
let postgres: TestingPostgres;
let api: ApiApp;
let store: AuditStore;

beforeAll(async () => {
  [server, postgres] = await Promise.all([TestingServer.start(), TestingPostgres.start()]);
  api = await startApiApp(server, {
    databaseUrl: await postgres.createDatabase('history'),
    grpc: true,
  });
  store = api.app.get<AuditStore>(AUDIT_STORE);
}, timing.ms(90_000));

afterAll(async () => {
  await api?.close();
  await postgres?.close();
  await server?.close();
});

async function submit(body: object = { type: 'noop' }): Promise<string> {
  return ((await request(api.http).post('/v1/tasks').send(body).expect(202)).body as { id: string })
    .id;
}

async function view(id: string): Promise<TaskView> {
  return (await request(api.http).get(`/v1/tasks/${id}`).expect(200)).body as TaskView;
}

/** What the draining registry does once a finished task's retention is over. */
async function retire(id: string): Promise<void> {
  const { data, stat } = await api.zk.get(ZkLayout.task(id));
  const record = decodeJson<TaskRecord>(data);
  await store.saveFinalRecord(record);
  const ops = [Op.delete(ZkLayout.task(id), stat.version)];
  if (record.idempotencyKey) ops.push(Op.delete(ZkLayout.idempotency(record.idempotencyKey)));
  await api.zk.multi(ops);
}

async function walk(
  query: Record<string, string | number>,
): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = [];
  const cursors: string[] = [];
  let cursor: string | null = null;
  do {
    const page = (
      await request(api.http)
        .get('/v1/tasks')
        .query({ ...query, ...(cursor ? { cursor } : {}) })
        .expect(200)
    ).body as Page<TaskView>;
    ids.push(...page.items.map((task) => task.id));
    cursor = page.nextCursor;
    if (cursor) cursors.push(cursor);
  } while (cursor !== null && cursors.length < 100);
  return { ids, cursors };
}

it('answers a retired task from its final record, exactly as before it left ZooKeeper', async () => {
  const id = await submit({
    type: 'noop',
    payload: { x: [1, 2] },
    idempotencyKey: 'history-key-1',
  });
  await request(api.http).post(`/v1/tasks/${id}/cancel`).expect(202);
  const before = await view(id);
  await retire(id);
  expect(await api.zk.exists(ZkLayout.task(id))).toBeNull();
  expect(await view(id)).toEqual(before);
  // Cancelling it again: finished (409, as before it left ZooKeeper), not unknown.
  const again = (await request(api.http).post(`/v1/tasks/${id}/cancel`).expect(409))
    .body as ApiErrorBody;
  expect(JSON.stringify(again)).toMatch(/cancelled/);
  await request(api.http).post('/v1/tasks/never-was/cancel').expect(404);
  const grpc = new SchedulerClient(api.grpcPort);
  try {
    expect(await grpc.call('GetTask', { id })).toMatchObject({
      id,
      state: 'cancelled',
      payloadJson: '{"x":[1,2]}',
    });
    expect((await grpc.failure('GetTask', { id: 'never-was' })).code).toBe(status.NOT_FOUND);
  } finally {
    grpc.close();
  }
  const missing = (await request(api.http).get('/v1/tasks/never-was').expect(404))
    .body as ApiErrorBody;
  expect(missing.errors).toEqual([{ field: 'id', reason: 'no such task' }]);
});

it('an idempotency key keeps answering its task after the task is retired, alone and in a batch', async () => {
  const key = 'history-key-2';
  const id = await submit({ type: 'noop', idempotencyKey: key });
  await request(api.http).post(`/v1/tasks/${id}/cancel`).expect(202);
  await retire(id);
  expect(await api.zk.exists(ZkLayout.idempotency(key))).toBeNull();

  const again = (
    await request(api.http)
      .post('/v1/tasks')
      .send({ type: 'noop', idempotencyKey: key })
      .expect(202)
  ).body as { id: string; state: string };
  expect(again).toEqual({ id, state: 'cancelled' });
  const batch = (
    await request(api.http)
      .post('/v1/tasks/batch')
      .send({ tasks: [{ type: 'noop' }, { type: 'noop', idempotencyKey: key }, { type: 'noop' }] })
      .expect(202)
  ).body as { items: Array<{ id: string; state: string }> };
  expect(batch.items.map((t) => t.state)).toEqual(['pending', 'cancelled', 'pending']);
  expect(batch.items[1].id).toBe(id);
  expect(new Set(batch.items.map((t) => t.id)).size).toBe(3);
  // Nothing new was created for the key.
  expect(await api.zk.exists(ZkLayout.idempotency(key))).toBeNull();
  const grpc = new SchedulerClient(api.grpcPort);
  try {
    expect(await grpc.call('SubmitTask', { type: 'noop', idempotencyKey: key })).toMatchObject({
      id,
      state: 'cancelled',
    });
  } finally {
    grpc.close();
  }
});

it('lists the live tasks, then the retired ones, each once, across pages', async () => {
  const jobless = await Promise.all(Array.from({ length: 5 }, () => submit()));
  const finished = await Promise.all(Array.from({ length: 7 }, () => submit()));
  for (const id of finished) await request(api.http).post(`/v1/tasks/${id}/cancel`).expect(202);
  for (const id of finished.slice(0, 6)) await retire(id); // one finished task is still live

  const { ids, cursors } = await walk({ limit: 3 });
  const { children } = await api.zk.children(ZkLayout.tasks);
  const live = [...children].sort();
  const retired = (await store.listTaskHistory({ limit: 1000 })).tasks
    .filter((row) => row.record !== undefined)
    .map((row) => row.taskId);
  expect(ids).toEqual([...live, ...retired]);
  expect(new Set(ids).size).toBe(ids.length);
  expect(retired).toEqual(expect.arrayContaining(finished.slice(0, 6)));
  expect(live).toEqual(expect.arrayContaining([...jobless, finished[6]]));
  expect(cursors.some((cursor) => cursor.startsWith('h~'))).toBe(true);

  const cancelled = await walk({ state: 'cancelled', limit: 1000 });
  expect(cancelled.ids).toEqual(expect.arrayContaining(finished));
  const pending = (await request(api.http).get('/v1/tasks').query({ state: 'pending' }).expect(200))
    .body as Page<TaskView>;
  expect(pending.items.map((t) => t.id)).toEqual(expect.arrayContaining(jobless));
  expect(pending.nextCursor).toBeNull();
  const bad = (await request(api.http).get('/v1/tasks').query({ cursor: 'h~..' }).expect(400))
    .body as ApiErrorBody;
  expect(bad.errors).toEqual([{ field: 'cursor', reason: expect.stringMatching(/nextCursor/) }]);
});

it('without PostgreSQL serves live tasks, answers 503 for the rest, and recovers', async () => {
  const live = await submit();
  const gone = await submit();
  await request(api.http).post(`/v1/tasks/${gone}/cancel`).expect(202);
  await retire(gone);
  await postgres.stop();
  try {
    expect((await view(live)).state).toBe('pending');
    const unavailable = await request(api.http).get(`/v1/tasks/${gone}`).expect(503);
    expect(unavailable.headers['retry-after']).toBe('1');
    expect((unavailable.body as ApiErrorBody).message).toMatch(
      /is not in ZooKeeper and the task history \(PostgreSQL\) is unavailable/,
    );
    const grpc = new SchedulerClient(api.grpcPort);
    try {
      expect((await grpc.failure('GetTask', { id: gone })).code).toBe(status.UNAVAILABLE);
    } finally {
      grpc.close();
    }
    // The live tasks come, then the cursor into the history, which answers 503 for now.
    const page = (await request(api.http).get('/v1/tasks').query({ limit: 1000 }).expect(200))
      .body as Page<TaskView>;
    expect(page.items.map((t) => t.id)).toContain(live);
    expect(page.nextCursor).toBe('h~');
    await request(api.http).get('/v1/tasks').query({ cursor: page.nextCursor }).expect(503);
    // Keyed submissions go on, their keys checked in ZooKeeper alone.
    const keyed = await submit({ type: 'noop', idempotencyKey: 'outage-key' });
    expect(await submit({ type: 'noop', idempotencyKey: 'outage-key' })).toBe(keyed);
    // History is a side read for the scheduler: its API stays ready without it.
    await request(api.http).get('/health/ready').expect(200);
  } finally {
    await postgres.start();
  }
  await timing.waitFor(
    async () => (await request(api.http).get(`/v1/tasks/${gone}`)).status === 200,
    {
      timeoutMs: 30_000,
      message: 'history readable again',
    },
  );
  expect((await view(gone)).state).toBe('cancelled');
});
