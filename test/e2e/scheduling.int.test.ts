import { TestingServer, timing } from '@app/zk/testing';
import type { AppProcess } from '../support/app-process';
import { LocalCluster } from '../support/local-cluster';

/**
 * Scheduling policies end to end: the API of a real scheduler process, the
 * leader in it, and three real worker processes (two labelled `zone=a`, one
 * `zone=b`), shared by every test of this file.
 */

jest.setTimeout(120_000);

let server: TestingServer;
let cluster: LocalCluster;
let api: AppProcess;
let workers: AppProcess[];

beforeAll(async () => {
  server = await TestingServer.start();
  cluster = new LocalCluster({ connectString: server.connectString });
  api = await cluster.start('scheduler');
  workers = [
    await cluster.start('worker', { WORKER_LABELS: 'zone=a', WORKER_CAPACITY: '2' }),
    await cluster.start('worker', { WORKER_LABELS: 'zone=a', WORKER_CAPACITY: '2' }),
    await cluster.start('worker', { WORKER_LABELS: 'zone=b', WORKER_CAPACITY: '2' }),
  ];
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await server?.close();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const response = await cluster.api<{ id: string }>(api, 'POST', '/v1/tasks', body);
  expect(response.status).toBe(202);
  return response.body.id;
}

test('a gang of 3 starts together on 3 distinct workers and succeeds once all members did', async () => {
  const id = await submit({ type: 'sleep', payload: { ms: 200 }, parallelism: 3 });
  const done = await cluster.waitForTask(id, (t) => t.state === 'succeeded');
  expect(new Set(done.workers)).toEqual(new Set(workers.map((w) => w.memberId)));
  expect(Object.values(done.members ?? {}).map((m) => m.state)).toEqual([
    'succeeded',
    'succeeded',
    'succeeded',
  ]);
  const starts = (await cluster.auditEvents())
    .filter((e) => e.taskId === id && e.type === 'task.succeeded')
    .map((e) => e.time);
  // Members finish within a short window of each other: they passed the barrier together.
  expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(1_000);
});

test('cancel: a running task is aborted on its worker and ends cancelled; a second cancel is 409', async () => {
  const id = await submit({ type: 'sleep', payload: { ms: 30_000 } });
  await cluster.waitForTask(id, (t) => t.state === 'running');
  const cancelled = await cluster.api<{ state: string }>(api, 'POST', `/v1/tasks/${id}/cancel`);
  expect(cancelled.status).toBe(202);
  const done = await cluster.waitForTask(id, (t) => t.state === 'cancelled');
  expect(done.error?.code).toBe('cancelled');
  expect((await cluster.api(api, 'POST', `/v1/tasks/${id}/cancel`)).status).toBe(409);
  // The slot is free again at once: a new task runs on the same worker class.
  const next = await submit({ type: 'noop', payload: {} });
  await cluster.waitForTask(next, (t) => t.state === 'succeeded');
});

test('timeout: the worker aborts the attempt; retries exhaust; the task fails with code timeout', async () => {
  const id = await submit({
    type: 'sleep',
    payload: { ms: 10_000 },
    timeoutMs: 300,
    retry: { maxAttempts: 2, backoffMs: 100 },
  });
  const done = await cluster.waitForTask(id, (t) => t.state === 'failed');
  expect(done).toMatchObject({ attempt: 2, failures: 2, error: { code: 'timeout' } });
  const types = (await cluster.auditEvents()).filter((e) => e.taskId === id).map((e) => e.type);
  expect(types.filter((t) => t === 'task.timed_out')).toHaveLength(2);
  expect(types).toContain('task.retry_scheduled');
});

test('idempotency key: the same key returns the same task, which runs once', async () => {
  const key = `key-${Date.now()}`;
  const first = await submit({ type: 'noop', payload: {}, idempotencyKey: key });
  const second = await submit({ type: 'noop', payload: {}, idempotencyKey: key });
  expect(second).toBe(first);
  await cluster.waitForTask(first, (t) => t.state === 'succeeded');
  const started = (await cluster.auditEvents()).filter(
    (e) => e.taskId === first && e.type === 'task.started',
  );
  expect(started).toHaveLength(1);
});

test('selectors route by labels; tasks wait when every matching worker is full and go when one frees', async () => {
  const zoneB = workers[2].memberId;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(
      await submit({ type: 'sleep', payload: { ms: 800 }, selector: { labels: { zone: 'b' } } }),
    );
  }
  // Capacity 2 on the only zone=b worker: two run, two wait.
  await timing.waitFor(
    async () => {
      const tasks = await Promise.all(ids.map((id) => cluster.task(id)));
      return (
        tasks.filter((t) => t?.state === 'running').length === 2 &&
        tasks.filter((t) => t?.state === 'pending').length === 2
      );
    },
    { message: 'two running, two waiting' },
  );
  const done = await Promise.all(
    ids.map((id) => cluster.waitForTask(id, (t) => t.state === 'succeeded')),
  );
  expect(done.every((t) => t.workerId === zoneB)).toBe(true);
  const nowhere = await submit({ type: 'noop', payload: {}, selector: { labels: { zone: 'c' } } });
  await timing.sleep(500);
  expect((await cluster.task(nowhere))?.state).toBe('pending');
});

test('a cron job with a DST time zone is accepted and reports its next fire in that zone', async () => {
  const created = await cluster.api<{ id: string; nextFireAt: string }>(api, 'POST', '/v1/jobs', {
    name: `dst-${Date.now()}`,
    type: 'noop',
    schedule: '30 2 * * *',
    timezone: 'America/New_York',
  });
  expect(created.status).toBe(201);
  const next = new Date(created.body.nextFireAt);
  const local = new Intl.DateTimeFormat('en-US', {
    timeZone: 'America/New_York',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(next);
  expect(['02:30', '03:00']).toContain(local); // 03:00 only on a spring-forward day
});
