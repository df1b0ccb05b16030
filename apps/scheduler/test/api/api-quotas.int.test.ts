/**
 * What keeps ZooKeeper bounded, tried from outside over HTTP and gRPC: the
 * live task count (API_MAX_LIVE_TASKS), the write rate counting each task of
 * a batch (API_RATE_LIMIT_PER_MINUTE), the one-year horizon of runAt, and the
 * records one filtered listing may read.
 * Each refusal is a 429 / RESOURCE_EXHAUSTED or a 400 naming the field, and
 * nothing is written.
 */
import { status } from '@grpc/grpc-js';
import request from 'supertest';
import { Op } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout } from '@app/contracts';
import { MAX_TASKS_EXAMINED, encodeJson, newTaskRecord } from '@app/store';
import { SchedulerClient, startApiApp, type ApiApp } from './support/api-app';

let server: TestingServer;

beforeAll(async () => {
  server = await TestingServer.start();
}, timing.ms(60_000));

afterAll(async () => {
  await server?.close();
});

const task = { type: 'noop', payload: {} };
const batch = (n: number): object => ({ tasks: Array.from({ length: n }, () => task) });

/** An API app with `env` for the enclosing describe block, and its gRPC client. */
function apiWith(env: Record<string, string>): { api: ApiApp; grpc: SchedulerClient } {
  const handles = {} as { api: ApiApp; grpc: SchedulerClient };
  beforeAll(async () => {
    handles.api = await startApiApp(server, { grpc: true, env });
    handles.grpc = new SchedulerClient(handles.api.grpcPort);
  }, timing.ms(30_000));
  afterAll(async () => {
    handles.grpc?.close();
    await handles.api?.close();
  });
  return handles;
}

/** What an API write adds to: tasks, their audit events, idempotency keys. */
async function written(api: ApiApp): Promise<number[]> {
  const counts: number[] = [];
  for (const parent of ['/tasks', '/audit/outbox', '/idempotency']) {
    counts.push((await api.zk.exists(parent))?.numChildren ?? 0);
  }
  return counts;
}

describe('API_MAX_LIVE_TASKS', () => {
  const app = apiWith({ API_MAX_LIVE_TASKS: '5' });

  it('refuses tasks past the limit with 429 / RESOURCE_EXHAUSTED, writing nothing', async () => {
    expect((await request(app.api.http).post('/v1/tasks/batch').send(batch(4))).status).toBe(202);
    const before = await written(app.api);

    const overBatch = await request(app.api.http).post('/v1/tasks/batch').send(batch(2));
    expect(overBatch.status).toBe(429);
    expect(overBatch.body).toMatchObject({
      statusCode: 429,
      message: expect.stringMatching(/API_MAX_LIVE_TASKS allows 5: 2 more do not fit/),
      errors: [{ field: 'tasks', reason: 'at most 5 tasks may be live' }],
    });
    const overGrpc = await app.grpc.failure('SubmitTasks', { tasks: [task, task] });
    expect(overGrpc.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await written(app.api)).toEqual(before);

    expect((await request(app.api.http).post('/v1/tasks').send(task)).status).toBe(202);
    expect((await request(app.api.http).post('/v1/tasks').send(task)).status).toBe(429);
    const job = await request(app.api.http)
      .post('/v1/jobs')
      .send({ name: 'nightly', type: 'noop', schedule: '0 3 * * *' });
    expect((await request(app.api.http).post(`/v1/jobs/${job.body.id}/trigger`)).status).toBe(429);
    expect((await app.api.zk.exists('/tasks'))?.numChildren).toBe(5);
  });
});

describe('the write rate counts every task of a batch', () => {
  const app = apiWith({ API_RATE_LIMIT_PER_MINUTE: '5' });

  it('refuses a batch larger than the burst, then batches past the rate, writing nothing', async () => {
    const before = await written(app.api);
    const huge = await request(app.api.http).post('/v1/tasks/batch').send(batch(6));
    expect(huge.status).toBe(429);
    expect(huge.body).toMatchObject({
      message: expect.stringMatching(/counts for 6 writes, more than the 5 a minute/),
      errors: [{ field: 'tasks' }],
    });
    expect(await written(app.api)).toEqual(before);

    expect((await request(app.api.http).post('/v1/tasks/batch').send(batch(4))).status).toBe(202);
    const after = await written(app.api);
    const limited = await request(app.api.http).post('/v1/tasks/batch').send(batch(2));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.grpc.failure('SubmitTasks', { tasks: [task, task] })).code).toBe(
      status.RESOURCE_EXHAUSTED,
    );
    expect(await written(app.api)).toEqual(after);
    // One write is left in the minute: a single task still fits.
    expect((await request(app.api.http).post('/v1/tasks').send(task)).status).toBe(202);
  });
});

describe('runAt horizon', () => {
  const app = apiWith({});

  it('refuses a task or job due in 2099 with 400 naming runAt, writing nothing', async () => {
    const before = [...(await written(app.api)), (await app.api.zk.exists('/jobs'))?.numChildren];
    const far = '2099-01-01T00:00:00Z';
    const refused = await request(app.api.http)
      .post('/v1/tasks')
      .send({ ...task, runAt: far });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      errors: [{ field: 'runAt', reason: 'must be at most one year from now' }],
    });
    const inBatch = await request(app.api.http)
      .post('/v1/tasks/batch')
      .send({ tasks: [task, { ...task, runAt: far }] });
    expect(inBatch.status).toBe(400);
    expect(inBatch.body.errors[0]).toMatchObject({ field: 'tasks[1].runAt' });
    const job = await request(app.api.http)
      .post('/v1/jobs')
      .send({ name: 'far', type: 'noop', runAt: far });
    expect(job.status).toBe(400);
    expect((await app.grpc.failure('SubmitTask', { ...task, runAt: far })).code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect([...(await written(app.api)), (await app.api.zk.exists('/jobs'))?.numChildren]).toEqual(
      before,
    );
  });
});

describe('a filtered listing reads a bounded number of tasks', () => {
  const app = apiWith({});

  it('stops after MAX_TASKS_EXAMINED records with a cursor, however rare the matches', async () => {
    const total = MAX_TASKS_EXAMINED + 10;
    for (let start = 0; start < total; start += 500) {
      const ops = [];
      for (let i = start; i < Math.min(total, start + 500); i += 1) {
        const record = newTaskRecord(
          { id: `t-${String(i).padStart(6, '0')}`, type: 'noop', payload: {} },
          Date.now(),
        );
        ops.push(Op.create(ZkLayout.task(record.id), encodeJson(record)));
      }
      await app.api.zk.multi(ops);
    }
    const first = await request(app.api.http).get('/v1/tasks?state=running').expect(200);
    expect(first.body).toEqual({
      items: [],
      nextCursor: `t-${String(MAX_TASKS_EXAMINED - 1).padStart(6, '0')}`,
    });
    const rest = await request(app.api.http)
      .get(`/v1/tasks?state=running&cursor=${first.body.nextCursor}`)
      .expect(200);
    expect(rest.body.items).toEqual([]);
  });
});
