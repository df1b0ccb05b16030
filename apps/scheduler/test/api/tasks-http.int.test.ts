/**
 * /v1/tasks over HTTP against a real ZooKeeper: submit (with idempotency
 * keys), the 1,000-task batch, read, list, cancel, and the errors of each.
 */
import request from 'supertest';
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout, type TaskRecord } from '@app/contracts';
import type {
  ApiErrorBody,
  Page,
  SubmittedTaskView,
  TaskView,
} from '@app/contracts/dto/scheduler-api';
import { decodeJson } from '@app/store';
import { startApiApp, type ApiApp, NEXT_YEAR } from './support/api-app';

let server: TestingServer;
let api: ApiApp;

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server);
}, timing.ms(60_000));

afterAll(async () => {
  await api?.close();
  await server?.close();
});

async function submit(body: Record<string, unknown>): Promise<SubmittedTaskView> {
  return (await request(api.http).post('/v1/tasks').send(body).expect(202))
    .body as SubmittedTaskView;
}

async function failure(test: request.Test, status: number): Promise<ApiErrorBody> {
  const res = await test.expect(status).expect('Content-Type', /json/);
  const body = res.body as ApiErrorBody;
  expect(Object.keys(body).sort()).toEqual(['error', 'errors', 'message', 'statusCode']);
  expect(body.statusCode).toBe(status);
  return body;
}

describe('one-off tasks', () => {
  it('submits a task (202 {id, state}) that GET shows with its state, attempt and times', async () => {
    const before = Date.now();
    const submitted = await submit({ type: 'noop', payload: { n: 7 }, timeoutMs: 1_000 });
    expect(submitted).toEqual({ id: expect.any(String), state: 'pending' });
    const task = (await request(api.http).get(`/v1/tasks/${submitted.id}`).expect(200))
      .body as TaskView;
    expect(task).toMatchObject({
      id: submitted.id,
      jobId: null,
      type: 'noop',
      payload: { n: 7 },
      state: 'pending',
      attempt: 0,
      failures: 0,
      retry: { maxAttempts: 1, backoffMs: 1000 },
      timeoutMs: 1_000,
      parallelism: 1,
      workerId: null,
      workers: [],
      assignedAt: null,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    });
    expect(Date.parse(task.createdAt)).toBeGreaterThanOrEqual(before - 1);
    expect(task.runAt).toBe(task.createdAt);
    const stored = decodeJson<TaskRecord>((await api.zk.get(ZkLayout.task(submitted.id))).data);
    expect(stored).toMatchObject({ id: submitted.id, state: 'pending', payload: { n: 7 } });
  });

  it('keeps a future runAt, the retry policy, the selector and the gang size', async () => {
    const { id } = await submit({
      type: 'http',
      runAt: `${NEXT_YEAR}-01-01T12:00:00-04:00`,
      retry: { maxAttempts: 5 },
      selector: { labels: { gpu: 'true' } },
      parallelism: 4,
    });
    const task = (await request(api.http).get(`/v1/tasks/${id}`).expect(200)).body as TaskView;
    expect(task).toMatchObject({
      runAt: `${NEXT_YEAR}-01-01T16:00:00.000Z`,
      retry: { maxAttempts: 5, backoffMs: 1000 },
      selector: { labels: { gpu: 'true' } },
      parallelism: 4,
    });
  });

  it('answers the same idempotencyKey with the same task, even when sent at once', async () => {
    const key = `key-${Date.now()}`;
    const first = await submit({ type: 'noop', idempotencyKey: key, payload: { a: 1 } });
    const again = await submit({ type: 'noop', idempotencyKey: key, payload: { a: 2 } });
    expect(again).toEqual(first);
    const other = await submit({ type: 'noop', idempotencyKey: `${key}-other` });
    expect(other.id).not.toBe(first.id);
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => submit({ type: 'noop', idempotencyKey: `${key}-c` })),
    );
    expect(new Set(concurrent.map((task) => task.id)).size).toBe(1);
    const stored = (await request(api.http).get(`/v1/tasks/${first.id}`).expect(200))
      .body as TaskView;
    expect(stored).toMatchObject({ idempotencyKey: key, payload: { a: 1 } });
  });

  it.each<[string, Record<string, unknown>, number, string, RegExp]>([
    ['no type', { payload: {} }, 400, 'type', /is required/],
    [
      'an empty idempotencyKey',
      { type: 'noop', idempotencyKey: '' },
      400,
      'idempotencyKey',
      /1 to 200/,
    ],
    [
      'a 201-character idempotencyKey',
      { type: 'noop', idempotencyKey: 'k'.repeat(201) },
      400,
      'idempotencyKey',
      /1 to 200/,
    ],
    [
      'runAt without an offset',
      { type: 'noop', runAt: '2030-01-01T00:00:00' },
      400,
      'runAt',
      /offset/,
    ],
    [
      'a schedule (jobs only)',
      { type: 'noop', schedule: '* * * * *' },
      400,
      'schedule',
      /not a known field/,
    ],
    ['a string timeout', { type: 'noop', timeoutMs: '100' }, 400, 'timeoutMs', /integer/],
    [
      'a payload over 256 KiB',
      { type: 'noop', payload: 'x'.repeat(262_143) },
      413,
      'payload',
      /at most 262144 bytes/,
    ],
  ])('refuses a task with %s', async (_case, body, status, field, reason) => {
    const error = await failure(request(api.http).post('/v1/tasks').send(body), status);
    expect(error.errors).toContainEqual({ field, reason: expect.stringMatching(reason) });
  });
});

describe('the batch', () => {
  it('submits 1,000 tasks: 202 with 1,000 ids in request order, all in ZooKeeper', async () => {
    const prefix = `batch-${Date.now()}`;
    const tasks = Array.from({ length: 1_000 }, (_, i) => ({
      type: 'noop',
      payload: { i },
      idempotencyKey: `${prefix}-${i}`,
    }));
    const started = performance.now();
    const res = await request(api.http).post('/v1/tasks/batch').send({ tasks }).expect(202);
    const elapsed = performance.now() - started;
    process.stdout.write(
      `POST /v1/tasks/batch with 1,000 tasks: ${elapsed.toFixed(0)} ms end to end\n`,
    );
    const { items } = res.body as { items: SubmittedTaskView[] };
    expect(items).toHaveLength(1_000);
    expect(new Set(items.map((item) => item.id)).size).toBe(1_000);
    expect(items.every((item) => item.state === 'pending')).toBe(true);

    const { children } = await api.zk.children(ZkLayout.tasks);
    const stored = new Set(children);
    expect(items.every((item) => stored.has(item.id))).toBe(true);
    // Order: the i-th answer is the task carrying payload i and key i.
    for (const i of [0, 1, 499, 998, 999]) {
      const task = decodeJson<TaskRecord>((await api.zk.get(ZkLayout.task(items[i].id))).data);
      expect(task).toMatchObject({ payload: { i }, idempotencyKey: `${prefix}-${i}` });
    }
    expect(await submit({ type: 'noop', idempotencyKey: `${prefix}-500` })).toEqual(items[500]);
  });

  it('answers repeated keys inside one batch with the first task', async () => {
    const key = `dup-${Date.now()}`;
    const res = await request(api.http)
      .post('/v1/tasks/batch')
      .send({
        tasks: [
          { type: 'noop', idempotencyKey: key },
          { type: 'noop' },
          { type: 'noop', idempotencyKey: key },
        ],
      })
      .expect(202);
    const { items } = res.body as { items: SubmittedTaskView[] };
    expect(items[2].id).toBe(items[0].id);
    expect(items[1].id).not.toBe(items[0].id);
  });

  it('refuses a batch over 1,000 tasks, naming the limit, and writes nothing', async () => {
    const before = (await api.zk.children(ZkLayout.tasks)).children.length;
    const body = await failure(
      request(api.http)
        .post('/v1/tasks/batch')
        .send({ tasks: Array.from({ length: 1_001 }, () => ({ type: 'noop' })) }),
      400,
    );
    expect(body.errors).toEqual([
      { field: 'tasks', reason: 'must hold at most 1000 tasks (got 1001): split the batch' },
    ]);
    expect((await api.zk.children(ZkLayout.tasks)).children.length).toBe(before);
  });

  it.each<[string, unknown, number, Array<{ field: string; reason: string | RegExp }>]>([
    [
      'an empty batch',
      { tasks: [] },
      400,
      [{ field: 'tasks', reason: 'must hold at least 1 task' }],
    ],
    ['no tasks field', {}, 400, [{ field: 'tasks', reason: 'is required' }]],
    [
      'tasks not an array',
      { tasks: { type: 'noop' } },
      400,
      [{ field: 'tasks', reason: 'must be an array of tasks' }],
    ],
    [
      'an item that is not an object',
      { tasks: [{ type: 'noop' }, 7] },
      400,
      [{ field: 'tasks', reason: 'must hold only JSON objects (item 1 is not)' }],
    ],
    [
      'bad items',
      {
        tasks: [
          { type: 'noop' },
          { type: 'noop', retry: { maxAttempts: 0 } },
          { type: 'noop', priority: 1 },
          {},
        ],
      },
      400,
      [
        { field: 'tasks[1].retry.maxAttempts', reason: 'must be an integer between 1 and 1000' },
        { field: 'tasks[2].priority', reason: 'is not a known field' },
        { field: 'tasks[3].type', reason: 'is required' },
      ],
    ],
    [
      'an unknown top-level field',
      { tasks: [{ type: 'noop' }], atomic: true },
      400,
      [{ field: 'atomic', reason: 'is not a known field' }],
    ],
    [
      'an item with a payload over 256 KiB',
      { tasks: [{ type: 'noop' }, { type: 'noop', payload: 'x'.repeat(300_000) }] },
      413,
      [{ field: 'tasks[1].payload', reason: 'must be at most 262144 bytes as JSON (got 300002)' }],
    ],
  ])('refuses %s', async (_case, body, status, errors) => {
    const error = await failure(
      request(api.http)
        .post('/v1/tasks/batch')
        .send(body as object),
      status,
    );
    expect(error.errors).toEqual(errors);
  });
});

describe('reading, listing and cancelling tasks', () => {
  it('walks the live tasks a page at a time, and filters by job and state', async () => {
    const all = (await request(api.http).get('/v1/tasks?limit=1000').expect(200))
      .body as Page<TaskView>;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = (
        await request(api.http)
          .get('/v1/tasks')
          .query({ limit: 250, ...(cursor ? { cursor } : {}) })
          .expect(200)
      ).body as Page<TaskView>;
      seen.push(...page.items.map((task) => task.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);
    const { children } = await api.zk.children(ZkLayout.tasks);
    expect(seen).toEqual([...children].sort());
    expect(all.items.map((task) => task.id)).toEqual(seen.slice(0, 1_000));

    const { id } = await submit({ type: 'noop' });
    await request(api.http).post(`/v1/tasks/${id}/cancel`).expect(202);
    const cancelled = (await request(api.http).get('/v1/tasks?state=cancelled').expect(200))
      .body as Page<TaskView>;
    expect(cancelled.items.map((task) => task.id)).toContain(id);
    expect(cancelled.items.every((task) => task.state === 'cancelled')).toBe(true);
    const ofJob = (
      await request(api.http)
        .get('/v1/tasks?jobId=00000000-0000-4000-8000-000000000000')
        .expect(200)
    ).body as Page<TaskView>;
    expect(ofJob).toEqual({ items: [], nextCursor: null });
  });

  it('cancels a pending task (202 with the task), then answers 409 naming its state', async () => {
    const { id } = await submit({ type: 'noop' });
    const cancelled = (await request(api.http).post(`/v1/tasks/${id}/cancel`).expect(202))
      .body as TaskView;
    expect(cancelled).toMatchObject({
      id,
      state: 'cancelled',
      error: { code: 'cancelled', message: expect.any(String) },
      finishedAt: expect.any(String),
    });
    expect((await request(api.http).get(`/v1/tasks/${id}`).expect(200)).body).toEqual(cancelled);
    const again = await failure(request(api.http).post(`/v1/tasks/${id}/cancel`), 409);
    expect(again.message).toMatch(/already cancelled/);
    expect(again.errors).toEqual([
      { field: 'state', reason: expect.stringMatching(/^is cancelled/) },
    ]);
  });

  it('answers 404 for unknown tasks and 400 for ids that are not task ids', async () => {
    const missing = await failure(request(api.http).get('/v1/tasks/no-such-task'), 404);
    expect(missing.errors).toEqual([{ field: 'id', reason: 'no such task' }]);
    await failure(request(api.http).post('/v1/tasks/no-such-task/cancel'), 404);
    for (const id of ['..', '%2E%2E', '..%2Fjobs', '%2Ftasks', 'a%2Fb', '-x', 'x'.repeat(201)]) {
      const bad = await failure(request(api.http).get(`/v1/tasks/${id}`), 400);
      expect(bad.errors).toEqual([
        { field: 'id', reason: expect.stringMatching(/must be a task id/) },
      ]);
    }
  });

  it.each([
    ['state=done', 'state', /must be one of pending/],
    ['jobId=abc', 'jobId', /job id/],
    ['limit=-1', 'limit', /integer/],
    ['cursor=..', 'cursor', /nextCursor/],
  ])('refuses ?%s', async (query, field, reason) => {
    const body = await failure(request(api.http).get(`/v1/tasks?${query}`), 400);
    expect(body.errors).toEqual([{ field, reason: expect.stringMatching(reason) }]);
  });
});
