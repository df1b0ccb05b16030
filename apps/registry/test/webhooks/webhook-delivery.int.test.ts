/**
 * Webhook delivery by a real registry (in this process) to real HTTP
 * receivers, from events stored in a real PostgreSQL: signatures, exactly one
 * delivery per event and subscription, order, a receiver down for 30 s, a
 * receiver answering 500 forever (retried, then failed) beside a healthy one.
 * End-to-end cases with real processes (a failing task, the drainer killed)
 * are in test/e2e/webhooks.int.test.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AuditDatabase, SecretBox, WebhookStore, verifyWebhookSignature } from '@app/audit';
import type { AuditEvent, AuditEventType } from '@app/contracts';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { TestingServer, timing } from '@app/zk/testing';
import { WebhookReceiver } from '../../../../test/support/webhook-receiver';
import { startRegistryApp, type RegistryApp } from '../support/registry-app';

jest.setTimeout(120_000);

const KEY = randomBytes(32);
const RETRY_FOR_MS = 3_000;

let server: TestingServer;
let database: TestDatabase;
let registry: RegistryApp;
let webhooks: WebhookStore;
let box: SecretBox;
const receiver = new WebhookReceiver();

beforeAll(async () => {
  server = await TestingServer.start();
  database = await createTestDatabase('zk_webhooks');
  await receiver.start();
  registry = await startRegistryApp(server, {
    databaseUrl: database.url,
    env: {
      WEBHOOK_SECRET_KEY: KEY.toString('base64'),
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_FOR_MS: String(RETRY_FOR_MS),
      WEBHOOK_BACKOFF_MIN_MS: '50',
      WEBHOOK_BACKOFF_MAX_MS: '1000',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '2000',
    },
  });
  const audit = registry.app.get(AuditDatabase);
  webhooks = new WebhookStore(audit.dataSource);
  box = new SecretBox(KEY);
  await timing.waitFor(() => registry.drain.isDrainer, { message: 'the registry drains' });
}, 60_000);

afterAll(async () => {
  await registry?.close();
  await receiver.stop();
  await database?.drop();
  await server?.close();
});

let clock = Date.now();
function event(type: AuditEventType, fields: Partial<AuditEvent> = {}): AuditEvent {
  clock += 1;
  return { id: randomUUID(), time: clock, type, actor: 'test/t-1/1', ...fields };
}

async function subscribe(
  path: string,
  events: string[],
  filter: { jobId?: string; taskType?: string } = {},
): Promise<{ id: string; secret: string; url: string }> {
  const secret = `whsec_${randomUUID()}`;
  const url = receiver.url(path);
  const view = await webhooks.create({
    url,
    events: events as never,
    filter,
    sealSecret: (id) => box.seal(secret, id),
  });
  return { id: view.id, secret, url };
}

async function deliveries(id: string) {
  return (await webhooks.deliveries(id, undefined, 1000)).items;
}

test('a final failure: exactly one task.failed, signed, with the headers and body of the contract', async () => {
  const hook = await subscribe('/failed', ['task.failed'], { taskType: 'http' });
  const taskId = `t-${randomUUID()}`;
  const other = `t-${randomUUID()}`;
  const on = { taskId, workerId: 'w-1' };
  const detail = { code: 'E', message: 'boom', failures: 2, state: 'failed' };
  const failed = event('task.failed', { ...on, attempt: 2, detail });
  await registry.store.append([
    event('task.created', { taskId, detail: { type: 'http', runAt: clock } }),
    event('task.assigned', { ...on, attempt: 1 }),
    // The first attempt failed and a retry followed: not a final failure.
    event('task.failed', { ...on, attempt: 1, detail: { ...detail, state: 'retrying' } }),
    event('task.retry_scheduled', { ...on, attempt: 1 }),
    event('task.assigned', { ...on, attempt: 2 }),
    failed,
    // Another type of task: the filter leaves it out.
    event('task.created', { taskId: other, detail: { type: 'noop', runAt: clock } }),
    event('task.failed', { taskId: other, attempt: 1, detail: { state: 'failed' } }),
  ]);
  // A later failure of the same type is delivered after it (order): once it
  // is there, nothing more for the first can still be on its way.
  const sentinelTask = `t-${randomUUID()}`;
  const sentinel = event('task.failed', {
    taskId: sentinelTask,
    attempt: 1,
    detail: { state: 'failed' },
  });
  await registry.store.append([
    event('task.created', { taskId: sentinelTask, detail: { type: 'http', runAt: clock } }),
    sentinel,
  ]);
  await timing.waitFor(() => receiver.on('/failed').some((r) => r.delivery === sentinel.id), {
    message: 'the sentinel delivered',
  });

  const got = receiver.on('/failed');
  expect(got.map((r) => r.delivery)).toEqual([failed.id, sentinel.id]);
  const [first] = got;
  expect(first.event).toBe('task.failed');
  expect(first.json).toEqual({
    id: failed.id,
    type: 'task.failed',
    occurredAt: new Date(failed.time).toISOString(),
    data: {
      taskId,
      taskType: 'http',
      workerId: 'w-1',
      attempt: 2,
      detail,
    },
  });
  expect(verifyWebhookSignature(first.signature, first.body, hook.secret)).toBe(true);
  expect(verifyWebhookSignature(first.signature, first.body, 'another-secret')).toBe(false);
  // The outcome is stored once the receiver's answer is in: it may trail the request.
  const stored = async (): Promise<unknown[]> =>
    (await deliveries(hook.id)).map((d) => [d.eventId, d.state, d.attempts, d.lastStatus]);
  const expected = [
    [sentinel.id, 'delivered', 1, 204],
    [failed.id, 'delivered', 1, 204],
  ];
  await timing.waitFor(async () => JSON.stringify(await stored()) === JSON.stringify(expected), {
    message: 'both deliveries stored as delivered',
  });
  expect(await stored()).toEqual(expected);
});

test('each mapped type (a final timeout as task.failed), in order of occurrence; `*` takes them all, a job filter only its job', async () => {
  const all = await subscribe('/all', ['*']);
  const jobId = randomUUID();
  const ofJob = await subscribe('/job', ['*'], { jobId });
  const events = [
    event('task.timed_out', { taskId: 'a', jobId, attempt: 1, detail: { state: 'retrying' } }),
    event('task.reassigned', { taskId: 'b', attempt: 2 }),
    event('task.skipped', { jobId, detail: { reason: 'misfire', count: 3 } }),
    event('task.skipped', { jobId, detail: { reason: 'concurrency' } }),
    event('worker.left', { workerId: 'w-9' }),
    event('leader.elected', { detail: { id: 's-1' } }),
    event('task.succeeded', { taskId: 'c', attempt: 1 }),
    // A final attempt that timed out: a final failure.
    event('task.timed_out', { taskId: 'd', attempt: 3, detail: { state: 'failed' } }),
  ];
  await registry.store.append(events);
  const expected = [
    [events[0].id, 'task.timed_out'],
    [events[1].id, 'task.reassigned'],
    [events[2].id, 'job.misfired'],
    [events[4].id, 'worker.left'],
    [events[5].id, 'leader.changed'],
    [events[7].id, 'task.failed'],
  ];
  await timing.waitFor(() => receiver.on('/all').length >= expected.length, {
    message: 'all six delivered',
  });
  expect(receiver.on('/all').map((r) => [r.delivery, r.event])).toEqual(expected);
  expect(receiver.allSigned('/all', all.secret)).toBe(true);
  await timing.waitFor(() => receiver.on('/job').length >= 2, { message: 'the job’s two' });
  expect(receiver.on('/job').map((r) => r.event)).toEqual(['task.timed_out', 'job.misfired']);
  expect(receiver.allSigned('/job', ofJob.secret)).toBe(true);
});

test('a receiver answering 500 forever: retried, then failed; another subscription is not held back', async () => {
  const broken = await subscribe('/broken', ['worker.left']);
  const healthy = await subscribe('/healthy', ['worker.left']);
  receiver.answer = (request) => (request.path === '/broken' ? 500 : 204);
  try {
    const left = [
      event('worker.left', { workerId: 'w-a' }),
      event('worker.left', { workerId: 'w-b' }),
    ];
    await registry.store.append(left);
    // The healthy one gets both at once, while the broken one is still retrying its first.
    await timing.waitFor(() => receiver.on('/healthy').length === 2, {
      message: 'healthy got both',
    });
    const firstBroken = (await deliveries(broken.id)).at(-1);
    expect(firstBroken?.state).toBe('pending');
    expect(receiver.on('/broken').every((r) => r.delivery === left[0].id)).toBe(true);

    // Retried for RETRY_FOR_MS, then failed; the second follows only then (order).
    const failed = await timing.waitFor(
      async () => {
        const list = await deliveries(broken.id);
        return list.length === 2 && list.every((d) => d.state === 'failed') ? list : undefined;
      },
      { timeoutMs: 30_000, message: 'both deliveries failed' },
    );
    // Newest first. The first was retried for the whole window; the second,
    // queued at the same time, had waited as long once its turn came: one
    // attempt, then failed too.
    const [second, first] = failed;
    expect(first.attempts).toBeGreaterThan(1);
    expect(second.attempts).toBe(1);
    for (const delivery of failed) {
      expect(delivery.lastStatus).toBe(500);
      expect(delivery.lastError).toBe('HTTP 500');
      expect(delivery.nextAttemptAt).toBeUndefined();
      expect(delivery.finishedAt).toBeDefined();
    }
    const firstIds = receiver.on('/broken').map((r) => r.delivery);
    expect(firstIds.lastIndexOf(left[0].id)).toBeLessThan(firstIds.indexOf(left[1].id));
    expect(receiver.allSigned('/broken', broken.secret)).toBe(true);
    expect(receiver.allSigned('/healthy', healthy.secret)).toBe(true);
    const metrics = await (await fetch(registry.url('/metrics'))).text();
    expect(metrics).toMatch(/zks_webhook_deliveries_total\{outcome="failed"\} [1-9]/);
    expect(metrics).toMatch(/zks_webhook_deliveries_total\{outcome="retried"\} [1-9]/);
    expect(metrics).toMatch(/zks_webhook_delivery_lag_seconds_count [1-9]/);
  } finally {
    receiver.answer = () => 204;
  }
});

test('a receiver that never answers: each attempt times out; another subscription is served meanwhile', async () => {
  const hanging = await subscribe('/hanging', ['task.reassigned']);
  await subscribe('/quick', ['task.reassigned']);
  const held: Array<() => void> = [];
  receiver.answer = (request) =>
    request.path === '/hanging'
      ? new Promise<number>((resolve) => held.push(() => resolve(204)))
      : 204;
  try {
    const events = Array.from({ length: 3 }, (_, i) =>
      event('task.reassigned', { taskId: `h-${i}`, attempt: 2 }),
    );
    const stored = Date.now();
    await registry.store.append(events);
    await timing.waitFor(() => receiver.on('/quick').length === 3, { message: 'quick got all' });
    // Well within the hanging endpoint's 2 s timeout.
    expect(Date.now() - stored).toBeLessThan(2_000);
    const timedOut = await timing.waitFor(
      async () => {
        const [head] = (await deliveries(hanging.id)).slice(-1);
        return head?.lastError !== undefined ? head : undefined;
      },
      { message: 'the first attempt timed out' },
    );
    expect(timedOut.state).toBe('pending');
    expect(timedOut.lastError).toMatch(
      /HttpTimeoutError: POST .* no complete answer within 2000 ms/,
    );
    // In order: only the first has been tried.
    expect(new Set(receiver.on('/hanging').map((r) => r.delivery))).toEqual(
      new Set([events[0].id]),
    );
  } finally {
    receiver.answer = () => 204;
    for (const release of held) release();
  }
});

test('a receiver down for 30 s: every event delivered afterwards, in order, once', async () => {
  const down = new WebhookReceiver();
  await down.start();
  const url = down.url('/down');
  await down.stop();
  const secret = `whsec_${randomUUID()}`;
  const view = await webhooks.create({
    url,
    events: ['task.failed'],
    filter: {},
    sealSecret: (id) => box.seal(secret, id),
  });
  // The window must outlast the outage: this subscription's is the configured
  // 3 s, so it is given a day by moving its deliveries' queue time a day ahead
  // as they come (moving it only to now() raced: a stall of the test's loop
  // longer than the window, a long GC in a loaded run, let an attempt fail it).
  const events = Array.from({ length: 5 }, (_, i) =>
    event('task.failed', { taskId: `d-${i}`, detail: { state: 'failed' } }),
  );
  await registry.store.append(events);
  const downSince = Date.now();
  while (Date.now() - downSince < 30_000) {
    await registry.app
      .get(AuditDatabase)
      .dataSource.query(
        `UPDATE webhook_deliveries SET created_at = now() + interval '1 day' WHERE subscription_id = $1`,
        [view.id],
      );
    await timing.sleep(500);
  }
  const waiting = await deliveries(view.id);
  expect(waiting).toHaveLength(5);
  expect(waiting.every((d) => d.state === 'pending')).toBe(true);
  expect(waiting.at(-1)?.attempts).toBeGreaterThan(1);
  expect(waiting.at(-1)?.lastError).toMatch(/ECONNREFUSED/);

  await down.start();
  try {
    await timing.waitFor(() => down.on('/down').length >= 5, {
      timeoutMs: 20_000,
      message: 'all five after the outage',
    });
    expect(down.on('/down').map((r) => r.delivery)).toEqual(events.map((e) => e.id));
    expect(down.allSigned('/down', secret)).toBe(true);
  } finally {
    await down.stop();
  }
});

test('a ping from POST /v1/webhooks/:id/test is delivered like an event', async () => {
  const hook = await subscribe('/ping', ['task.failed']);
  const eventId = await webhooks.enqueuePing(hook.id);
  await timing.waitFor(() => receiver.on('/ping').length === 1, { message: 'the ping' });
  const [ping] = receiver.on('/ping');
  expect(ping.delivery).toBe(eventId);
  expect(ping.json).toMatchObject({ id: eventId, type: 'ping', data: { webhookId: hook.id } });
  expect(receiver.allSigned('/ping', hook.secret)).toBe(true);
});
