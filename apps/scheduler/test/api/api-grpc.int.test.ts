/**
 * SchedulerService over gRPC (a client built from the same .proto file) against
 * a real ZooKeeper: every operation, the same validation as HTTP (fields named
 * in the message and the `errors-bin` trailer), and the status codes.
 */
import { status } from '@grpc/grpc-js';
import request from 'supertest';
import { TestingServer, timing } from '@app/zk/testing';
import type {
  JobMessage,
  ListJobsResponse,
  ListTasksResponse,
  SubmitTasksResponse,
  SubmittedTaskMessage,
  TaskMessage,
  TriggerJobResponse,
} from '@app/contracts/proto/scheduler/v1/scheduler-messages';
import { SchedulerClient, startApiApp, type ApiApp, NEXT_YEAR } from './support/api-app';

let server: TestingServer;
let api: ApiApp;
let grpc: SchedulerClient;

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server, { grpc: true });
  grpc = new SchedulerClient(api.grpcPort);
}, timing.ms(60_000));

afterAll(async () => {
  grpc?.close();
  await api?.close();
  await server?.close();
});

let names = 0;
const newJob = (fields: object = {}): object => ({
  name: `grpc-job-${++names}`,
  type: 'noop',
  schedule: '0 * * * *',
  ...fields,
});

describe('jobs over gRPC', () => {
  it('creates, gets, lists, updates, triggers and deletes a job', async () => {
    const created = await grpc.call<JobMessage>(
      'CreateJob',
      newJob({
        payloadJson: '{"a":[1,2]}',
        retry: { maxAttempts: 3 },
        selector: { labels: { zone: 'z1' } },
      }),
    );
    expect(created).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'noop',
      payloadJson: '{"a":[1,2]}',
      schedule: '0 * * * *',
      timezone: 'UTC',
      retry: { maxAttempts: 3, backoffMs: 1000 },
      concurrency: 'allow',
      misfire: 'fire_once',
      selector: { labels: { zone: 'z1' } },
      parallelism: 1,
      paused: false,
      nextFireAt: expect.stringMatching(/:00:00\.000Z$/),
    });
    // The same job as HTTP sees it.
    const http = (await request(api.http).get(`/v1/jobs/${created.id}`).expect(200)).body;
    expect(http).toMatchObject({
      id: created.id,
      payload: { a: [1, 2] },
      nextFireAt: created.nextFireAt,
    });

    expect(await grpc.call<JobMessage>('GetJob', { id: created.id })).toEqual(created);

    const listed = await grpc.call<ListJobsResponse>('ListJobs', { limit: 1000 });
    expect(listed.items.map((job) => job.id)).toContain(created.id);
    const firstPage = await grpc.call<ListJobsResponse>('ListJobs', { limit: 1 });
    expect(firstPage.items).toHaveLength(1);

    const updated = await grpc.call<JobMessage>('UpdateJob', {
      id: created.id,
      paused: true,
      timeoutMs: 500,
      clearFields: ['selector'],
    });
    expect(updated).toMatchObject({ paused: true, timeoutMs: 500 });
    expect(updated.selector).toBeUndefined();
    expect(updated.nextFireAt).toBeUndefined();

    const switched = await grpc.call<JobMessage>('UpdateJob', {
      id: created.id,
      runAt: `${NEXT_YEAR}-01-01T00:00:00Z`,
      paused: false,
    });
    expect(switched).toMatchObject({
      runAt: `${NEXT_YEAR}-01-01T00:00:00.000Z`,
      nextFireAt: `${NEXT_YEAR}-01-01T00:00:00.000Z`,
    });
    expect(switched.schedule).toBeUndefined();

    const { taskId } = await grpc.call<TriggerJobResponse>('TriggerJob', { id: created.id });
    expect(taskId.startsWith(`${created.id}@manual-`)).toBe(true);
    const task = await grpc.call<TaskMessage>('GetTask', { id: taskId });
    expect(task).toMatchObject({
      id: taskId,
      jobId: created.id,
      payloadJson: '{"a":[1,2]}',
      timeoutMs: 500,
    });

    await grpc.call('DeleteJob', { id: created.id });
    expect((await grpc.failure('GetJob', { id: created.id })).code).toBe(status.NOT_FOUND);
  });

  it('answers a duplicate name with ALREADY_EXISTS naming the field', async () => {
    const job = newJob();
    await grpc.call('CreateJob', job);
    const failure = await grpc.failure('CreateJob', job);
    expect(failure.code).toBe(status.ALREADY_EXISTS);
    expect(failure.errors).toEqual([{ field: 'name', reason: expect.stringMatching(/is taken/) }]);
  });

  it.each<[string, object, string, RegExp]>([
    ['a bad cron', { schedule: '0 0 0 * * * *' }, 'schedule', /expected 5 fields/],
    ['an unknown time zone', { timezone: 'Moon/Tycho' }, 'timezone', /IANA/],
    ['schedule and runAt', { runAt: '2030-01-01T00:00:00Z' }, 'schedule', /cannot be combined/],
    ['runAt that is not a date', { schedule: undefined, runAt: 'noon' }, 'runAt', /ISO 8601/],
    ['a negative timeout', { timeoutMs: -3 }, 'timeoutMs', /integer between 1/],
    ['maxAttempts 0', { retry: { maxAttempts: 0 } }, 'retry.maxAttempts', /integer between 1/],
    ['an unknown concurrency', { concurrency: 'exclusive' }, 'concurrency', /one of allow/],
    ['an unknown misfire', { misfire: 'retry' }, 'misfire', /one of skip/],
    ['payload that is not JSON', { payloadJson: '{oops' }, 'payloadJson', /valid JSON/],
    [
      'a bad label',
      { selector: { labels: { 'bad key': 'v' } } },
      'selector.labels',
      /invalid label name/,
    ],
  ])(
    'answers CreateJob with %s: INVALID_ARGUMENT naming the field',
    async (_c, fields, field, reason) => {
      const failure = await grpc.failure('CreateJob', newJob(fields));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.errors).toContainEqual({ field, reason: expect.stringMatching(reason) });
      expect(failure.details).toContain(field);
    },
  );

  it('gives the same field errors as HTTP for the same request', async () => {
    const body = { name: '', type: '9', schedule: '* * *', parallelism: 0 };
    const http = (await request(api.http).post('/v1/jobs').send(body).expect(400)).body;
    const failure = await grpc.failure('CreateJob', body);
    expect(failure.errors).toEqual(http.errors);
  });

  it('answers a payload over 256 KiB with RESOURCE_EXHAUSTED', async () => {
    const failure = await grpc.failure(
      'CreateJob',
      newJob({ payloadJson: JSON.stringify('x'.repeat(300_000)) }),
    );
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failure.errors).toEqual([{ field: 'payload', reason: expect.stringMatching(/262144/) }]);
  });

  it('refuses bad ids and clear fields with INVALID_ARGUMENT, unknown ids with NOT_FOUND', async () => {
    for (const id of ['', '../x', '/zookeeper', 'x'.repeat(300)]) {
      const failure = await grpc.failure('GetJob', { id });
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.errors).toEqual([{ field: 'id', reason: 'must be a job id (a UUID)' }]);
    }
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await grpc.failure('UpdateJob', { id: unknown, paused: true })).code).toBe(
      status.NOT_FOUND,
    );
    expect((await grpc.failure('DeleteJob', { id: unknown })).code).toBe(status.NOT_FOUND);
    expect((await grpc.failure('TriggerJob', { id: unknown })).code).toBe(status.NOT_FOUND);
    const clear = await grpc.failure('UpdateJob', { id: unknown, clearFields: ['name'] });
    expect(clear.code).toBe(status.INVALID_ARGUMENT);
    expect(clear.errors).toEqual([
      { field: 'clearFields', reason: expect.stringMatching(/timeoutMs, selector/) },
    ]);
    const limit = await grpc.failure('ListJobs', { limit: 5000 });
    expect(limit.errors).toEqual([
      { field: 'limit', reason: 'must be an integer between 1 and 1000' },
    ]);
  });
});

describe('tasks over gRPC', () => {
  it('submits, gets, lists and cancels a task; a second cancel is FAILED_PRECONDITION', async () => {
    const submitted = await grpc.call<SubmittedTaskMessage>('SubmitTask', {
      type: 'noop',
      payloadJson: '{"x":1}',
      runAt: `${NEXT_YEAR}-01-01T00:00:00Z`,
    });
    expect(submitted).toEqual({ id: expect.any(String), state: 'pending' });
    const task = await grpc.call<TaskMessage>('GetTask', { id: submitted.id });
    expect(task).toMatchObject({
      id: submitted.id,
      state: 'pending',
      attempt: 0,
      payloadJson: '{"x":1}',
      runAt: `${NEXT_YEAR}-01-01T00:00:00.000Z`,
      workers: [],
    });
    expect(task.workerId).toBeUndefined();
    const listed = await grpc.call<ListTasksResponse>('ListTasks', {
      state: 'pending',
      limit: 1000,
    });
    expect(listed.items.map((t) => t.id)).toContain(submitted.id);

    const cancelled = await grpc.call<TaskMessage>('CancelTask', { id: submitted.id });
    expect(cancelled).toMatchObject({ state: 'cancelled', error: { code: 'cancelled' } });
    const again = await grpc.failure('CancelTask', { id: submitted.id });
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect(again.details).toMatch(/already cancelled/);
    expect((await grpc.failure('GetTask', { id: 'missing' })).code).toBe(status.NOT_FOUND);
    expect((await grpc.failure('GetTask', { id: '../../jobs' })).code).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  it('answers the same idempotency key with the same task', async () => {
    const key = `grpc-key-${Date.now()}`;
    const first = await grpc.call<SubmittedTaskMessage>('SubmitTask', {
      type: 'noop',
      idempotencyKey: key,
    });
    const again = await grpc.call<SubmittedTaskMessage>('SubmitTask', {
      type: 'noop',
      idempotencyKey: key,
    });
    expect(again).toEqual(first);
  });

  it('submits a batch of 1,000 in order', async () => {
    const prefix = `grpc-batch-${Date.now()}`;
    const tasks = Array.from({ length: 1_000 }, (_, i) => ({
      type: 'noop',
      idempotencyKey: `${prefix}-${i}`,
    }));
    const { items } = await grpc.call<SubmitTasksResponse>('SubmitTasks', { tasks });
    expect(items).toHaveLength(1_000);
    expect(new Set(items.map((item) => item.id)).size).toBe(1_000);
    const third = await grpc.call<SubmittedTaskMessage>('SubmitTask', {
      type: 'noop',
      idempotencyKey: `${prefix}-3`,
    });
    expect(third).toEqual(items[3]);
  });

  it('refuses bad batches naming the item and field', async () => {
    const tooMany = await grpc.failure('SubmitTasks', {
      tasks: Array.from({ length: 1_001 }, () => ({ type: 'noop' })),
    });
    expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
    expect(tooMany.errors).toEqual([
      { field: 'tasks', reason: expect.stringMatching(/at most 1000/) },
    ]);
    const bad = await grpc.failure('SubmitTasks', {
      tasks: [
        { type: 'noop' },
        { type: 'noop', parallelism: -1 },
        { type: 'noop', payloadJson: '[' },
      ],
    });
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.errors).toEqual([
      { field: 'tasks[2].payloadJson', reason: expect.stringMatching(/valid JSON/) },
    ]);
    const item = await grpc.failure('SubmitTasks', {
      tasks: [{ type: 'noop' }, { type: 'noop', parallelism: -1 }],
    });
    expect(item.errors).toEqual([
      { field: 'tasks[1].parallelism', reason: expect.stringMatching(/integer/) },
    ]);
    const empty = await grpc.failure('SubmitTasks', {});
    expect(empty.errors).toEqual([{ field: 'tasks', reason: 'must hold at least 1 task' }]);
  });
});
