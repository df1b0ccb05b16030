/**
 * Webhooks end to end, with real processes (scheduler, worker, registries),
 * ZooKeeper, PostgreSQL and a real HTTP receiver: a task that fails for good
 * is notified exactly once with a valid signature; the draining registry
 * `kill -9`'d in the middle of a batch of deliveries loses none of them (the
 * standby delivers the rest; a repeat carries the same X-Zks-Delivery).
 */
import { randomBytes } from 'node:crypto';
import { verifyWebhookSignature } from '@app/audit';
import type { SubmittedTaskView } from '@app/contracts/dto/scheduler-api';
import { TestingServer, timing } from '@app/zk/testing';
import type { AppProcess } from '../support/app-process';
import { LocalCluster } from '../support/local-cluster';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(240_000);

let zooKeeper: TestingServer;
let cluster: LocalCluster;
let scheduler: AppProcess;
const receiver = new WebhookReceiver();

beforeAll(async () => {
  zooKeeper = await TestingServer.start();
  await receiver.start();
  cluster = new LocalCluster({
    connectString: zooKeeper.connectString,
    env: {
      WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_POLL_MS: '100',
      WEBHOOK_BACKOFF_MIN_MS: '100',
      WEBHOOK_BACKOFF_MAX_MS: '1000',
    },
  });
  scheduler = await cluster.start('scheduler');
  await cluster.start('worker');
  await cluster.start('registry');
}, timing.ms(90_000));

afterAll(async () => {
  await cluster?.close();
  await receiver.stop();
  await zooKeeper?.close();
}, timing.ms(30_000));

/** A task that fails for good at once: the worker's http handler refuses loopback. */
const FAILING = {
  type: 'http',
  payload: { method: 'GET', url: 'http://127.0.0.1:9/' },
  retry: { maxAttempts: 1 },
};

async function subscribe(path: string): Promise<{ id: string; secret: string }> {
  const created = await cluster.api<{ id: string; secret: string }>(
    scheduler,
    'POST',
    '/v1/webhooks',
    { url: receiver.url(path), events: ['task.failed'] },
  );
  expect(created.status).toBe(201);
  return created.body;
}

async function submit(tasks: object[]): Promise<string[]> {
  const res = await cluster.api<{ items: SubmittedTaskView[] }>(
    scheduler,
    'POST',
    '/v1/tasks/batch',
    { tasks },
  );
  expect(res.status).toBe(202);
  return res.body.items.map((t) => t.id);
}

test('a task that fails for good: exactly one task.failed, signed', async () => {
  const hook = await subscribe('/failed');
  // Two attempts: the first failure is followed by a retry, only the second is final.
  const [failing, succeeding] = await submit([
    { ...FAILING, retry: { maxAttempts: 2, backoffMs: 100 } },
    { type: 'noop' },
  ]);
  await timing.waitFor(() => receiver.on('/failed').length >= 1, {
    timeoutMs: 30_000,
    message: 'the failure notified',
  });
  // A later failure is delivered after it (in order): once it is in, no second
  // copy of the first can still be on its way.
  const [sentinel] = await submit([FAILING]);
  await timing.waitFor(() => receiver.on('/failed').length >= 2, {
    timeoutMs: 30_000,
    message: 'the second failure notified',
  });
  const got = receiver.on('/failed');
  expect(got.map((r) => r.json.data.taskId)).toEqual([failing, sentinel]);
  expect(got.map((r) => r.event)).toEqual(['task.failed', 'task.failed']);
  expect(got[0].json).toMatchObject({
    type: 'task.failed',
    data: { taskType: 'http', attempt: 1 },
  });
  expect(got[0].delivery).toBe(got[0].json.id);
  expect(receiver.allSigned('/failed', hook.secret)).toBe(true);
  expect(got.some((r) => r.json.data.taskId === succeeding)).toBe(false);
  const deliveries = await cluster.api<{ items: Array<{ state: string; attempts: number }> }>(
    scheduler,
    'GET',
    `/v1/webhooks/${hook.id}/deliveries`,
  );
  expect(deliveries.body.items).toEqual([
    expect.objectContaining({ state: 'delivered', attempts: 1 }),
    expect.objectContaining({ state: 'delivered', attempts: 1 }),
  ]);
  // The secret is in no log line of any process (request logs included, at info; the
  // last 20 kB of each, which span this test).
  for (const process of cluster.processes) expect(process.output).not.toContain(hook.secret);
});

test('the draining registry killed with kill -9 mid-batch: every notification delivered, none lost', async () => {
  const hook = await subscribe('/kill');
  const standby = await cluster.start('registry');
  const drainer = await cluster.drainer();
  expect(drainer.memberId).not.toBe(standby.memberId);
  // A slow receiver: the batch is still being delivered when the drainer dies.
  receiver.answer = (request) =>
    request.path === '/kill' ? timing.sleep(100).then(() => 200) : 204;
  try {
    const ids = await submit(Array.from({ length: 40 }, () => FAILING));
    await timing.waitFor(() => receiver.on('/kill').length >= 5, {
      timeoutMs: 60_000,
      message: 'some delivered',
    });
    expect(new Set(receiver.on('/kill').map((r) => r.delivery)).size).toBeLessThan(40);
    await drainer.signal('SIGKILL');
    expect((await cluster.drainer(30_000)).memberId).toBe(standby.memberId);

    const taskIds = () => new Set(receiver.on('/kill').map((r) => r.json.data.taskId as string));
    await timing.waitFor(() => taskIds().size === ids.length, {
      timeoutMs: 90_000,
      message: () => `${taskIds().size} of ${ids.length} failures notified`,
    });
    expect([...taskIds()].sort()).toEqual([...ids].sort());
    // A repeat only ever carries the id of an event already sent, with the same body.
    const bodies = new Map<string, string>();
    for (const got of receiver.on('/kill')) {
      expect(bodies.get(got.delivery) ?? got.body).toBe(got.body);
      bodies.set(got.delivery, got.body);
      expect(verifyWebhookSignature(got.signature, got.body, hook.secret)).toBe(true);
    }
    expect(bodies.size).toBe(ids.length);
    const states = async (): Promise<string[]> =>
      (
        await cluster.api<{ items: Array<{ state: string }> }>(
          scheduler,
          'GET',
          `/v1/webhooks/${hook.id}/deliveries?limit=1000`,
        )
      ).body.items.map((d) => d.state);
    // The last attempt's outcome may still be on its way to PostgreSQL.
    await timing.waitFor(async () => (await states()).every((state) => state === 'delivered'), {
      message: 'every delivery recorded as delivered',
    });
    expect(await states()).toHaveLength(ids.length);
  } finally {
    receiver.answer = () => 204;
  }
});
