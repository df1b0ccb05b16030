/**
 * PostgreSQL down while failures happen (issue 13: "PostgreSQL down:
 * deliveries wait"): the events wait in the ZooKeeper outbox, nothing is
 * matched or sent meanwhile, and once PostgreSQL is back every one is
 * delivered once, in order. A throwaway PostgreSQL server, so that it can be
 * stopped; a real registry in this process; the events written to the outbox
 * as a worker's commit writes them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AuditDatabase, SecretBox, WebhookStore } from '@app/audit';
import { TestingPostgres } from '@app/audit/testing';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import { outboxOp } from '@app/store';
import { TestingServer, timing } from '@app/zk/testing';
import { WebhookReceiver } from '../../../../test/support/webhook-receiver';
import { startRegistryApp, zkSession, type RegistryApp } from '../support/registry-app';

jest.setTimeout(120_000);

const KEY = randomBytes(32);
let server: TestingServer;
let postgres: TestingPostgres;
let registry: RegistryApp;
const receiver = new WebhookReceiver();

beforeAll(async () => {
  [server, postgres] = await Promise.all([TestingServer.start(), TestingPostgres.start()]);
  await receiver.start();
  registry = await startRegistryApp(server, {
    databaseUrl: await postgres.createDatabase('webhooks'),
    env: {
      WEBHOOK_SECRET_KEY: KEY.toString('base64'),
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_POLL_MS: '50',
      REGISTRY_DRAIN_MAX_BACKOFF_MS: '500',
    },
  });
  await timing.waitFor(() => registry.drain.isDrainer, { message: 'the registry drains' });
}, 90_000);

afterAll(async () => {
  await registry?.close();
  await receiver.stop();
  await postgres?.close();
  await server?.close();
});

test('PostgreSQL down: events wait, nothing is sent; back: each delivered once, in order', async () => {
  const box = new SecretBox(KEY);
  const store = new WebhookStore(registry.app.get(AuditDatabase).dataSource);
  const secret = `whsec_${randomUUID()}`;
  const hook = await store.create({
    url: receiver.url('/outage'),
    events: ['task.failed'],
    filter: {},
    sealSecret: (id) => box.seal(secret, id),
  });
  const zk = await zkSession(server, registry.root);
  try {
    const failure = (i: number): AuditEvent => ({
      id: randomUUID(),
      time: Date.now(),
      type: 'task.failed',
      taskId: `outage-${i}`,
      attempt: 1,
      actor: 'test/outage/1',
      detail: { state: 'failed' },
    });
    const before = failure(0);
    await zk.multi([outboxOp([before])]);
    // Delivered and recorded (a delivery the receiver got but the registry has
    // not recorded yet would be sent again after the outage: allowed, same id).
    await timing.waitFor(
      async () => (await store.deliveries(hook.id, undefined, 10)).items[0]?.state === 'delivered',
      { message: 'first delivered and recorded' },
    );

    await postgres.stop();
    const during = Array.from({ length: 5 }, (_, i) => failure(i + 1));
    for (const event of during) await zk.multi([outboxOp([event])]);
    // Let the drainer and the deliverer run into the outage for a while.
    await timing.sleep(3_000);
    expect(receiver.on('/outage')).toHaveLength(1);
    expect((await zk.children(ZkLayout.outbox)).children.length).toBe(during.length);

    await postgres.start();
    await timing.waitFor(() => receiver.on('/outage').length >= 1 + during.length, {
      timeoutMs: 60_000,
      message: 'the failures of the outage delivered',
    });
    const got = receiver.on('/outage');
    expect([...new Set(got.map((r) => r.delivery))]).toEqual([before, ...during].map((e) => e.id));
    // A repeat (an attempt whose outcome was not recorded) carries the same id and body.
    const bodies = new Map(got.map((r) => [r.delivery, r.body]));
    expect(got.every((r) => bodies.get(r.delivery) === r.body)).toBe(true);
    expect(receiver.allSigned('/outage', secret)).toBe(true);
  } finally {
    await zk.close();
  }
});
