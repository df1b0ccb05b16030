/**
 * OutboxDrainer on a real ZooKeeper and a real PostgreSQL (a fresh database of
 * the shared server): batches in order within their bounds, a deposed drainer
 * that stored a batch without deleting it (the successor re-drains it: stored
 * once), a node PostgreSQL refuses while it answers (moved aside, the rest
 * stored), and an outage of the store (backoff, nothing deleted, resumes).
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { LeaderElection, ZkClient } from '@app/zk';
import { expireSession, TestingServer, timing } from '@app/zk/testing';
import { PERSISTENT_PARENTS, ZkLayout, type AuditEvent } from '@app/contracts';
import {
  AuditDatabase,
  AuditUnavailableError,
  TypeOrmAuditStore,
  type AuditStore,
} from '@app/audit';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import {
  DEFAULT_REGISTRY_SETTINGS,
  type RegistrySettings,
} from '../../src/config/registry-settings';
import { DrainMetrics } from '../../src/audit-drain/drain-metrics';
import { OutboxDrainer, type OutboxDrainerOptions } from '../../src/audit-drain/outbox-drainer';
import { fillOutbox, outboxDepth, syntheticEvent } from '../support/outbox-fixtures';

let server: TestingServer;
let database: TestDatabase;
let audit: AuditDatabase;
let store: AuditStore;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  [server, database] = await Promise.all([TestingServer.start(), createTestDatabase('zk_drain')]);
  audit = new AuditDatabase({ url: database.url });
  audit.start();
  await audit.whenReady();
  store = new TypeOrmAuditStore(audit.dataSource, { assertReady: () => audit.assertReady() });
}, timing.ms(60_000));

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await audit?.close();
  await database?.drop();
  await server?.close();
});

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

async function session(root: string): Promise<ZkClient> {
  const zk = new ZkClient({ connectString: server.connectString, root, sessionTimeoutMs: 2_000 });
  await zk.start();
  cleanups.push(() => zk.close());
  return zk;
}

async function freshRoot(): Promise<{ root: string; zk: ZkClient }> {
  const root = `/drain-${randomUUID()}`;
  const zk = await session(root);
  await Promise.all(PERSISTENT_PARENTS.map((path) => zk.mkdirp(path)));
  return { root, zk };
}

interface Drain {
  drainer: OutboxDrainer;
  election: LeaderElection;
  metrics: DrainMetrics;
  registry: Registry;
  committed: AuditEvent[][];
}

/** A drainer as the registry runs it: elected first, fenced writes. */
async function startDrain(
  client: ZkClient,
  withStore: AuditStore,
  settings: Partial<RegistrySettings> = {},
  extra: Pick<OutboxDrainerOptions, 'backlogEvent'> = {},
): Promise<Drain> {
  const election = new LeaderElection(client, {
    path: ZkLayout.registryElection,
    id: `drainer-${randomUUID().slice(0, 8)}`,
  });
  const elected = election.next('elected');
  await election.start();
  cleanups.push(() => election.close());
  await elected;
  const registry = new Registry();
  const metrics = new DrainMetrics(registry);
  const committed: AuditEvent[][] = [];
  const drainer = new OutboxDrainer({
    client,
    store: withStore,
    commit: (ops) => election.fencedMulti(ops),
    settings: { ...DEFAULT_REGISTRY_SETTINGS, maxBackoffMs: 400, ...settings },
    metrics,
    logger: silent,
    onCommitted: (events) => {
      if (events.length > 0) committed.push([...events]);
    },
    ...extra,
  });
  drainer.start();
  cleanups.push(() => drainer.stop());
  return { drainer, election, metrics, registry, committed };
}

async function storedIds(events: readonly AuditEvent[]): Promise<string[]> {
  const wanted = new Set(events.map((e) => e.id));
  const found: string[] = [];
  let after = '0';
  for (;;) {
    const page = await store.eventsAfter(after, 1_000);
    if (page.length === 0) return found;
    for (const event of page) if (wanted.has(event.id)) found.push(event.id);
    after = page[page.length - 1].seq;
  }
}

async function metric(registry: Registry, name: string, labels = ''): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

it('drains in outbox order, in batches bounded by nodes and events (a bigger node alone)', async () => {
  const { zk } = await freshRoot();
  const small = await fillOutbox(zk, 30, 3);
  const big = await fillOutbox(zk, 1, 25);
  const rest = await fillOutbox(zk, 10, 1);
  const drain = await startDrain(zk, store, { batchNodes: 7, batchEvents: 20 });
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'drained' });
  const all = [...small, ...big, ...rest];
  expect(await storedIds(all)).toEqual(all.map((e) => e.id));
  const sizes = drain.committed.map((batch) => batch.length);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(all.length);
  // 3-event nodes: 7 nodes would be 21 events > 20, so 6 nodes (18 events) per batch.
  expect(sizes.slice(0, 5)).toEqual([18, 18, 18, 18, 18]);
  expect(sizes).toContain(25);
  expect(sizes.every((size) => size <= 20 || size === 25)).toBe(true);
  // The gauge follows the drainer's own look after its last delete, which may
  // come after this test's client saw the outbox empty.
  await timing.waitFor(
    async () => (await metric(drain.registry, 'zks_registry_outbox_depth')) === 0,
    { message: 'outbox depth gauge back to 0' },
  );
});

it('an outbox above its warning depth: one audit.backlog event, through the outbox, stored in order', async () => {
  const { zk } = await freshRoot();
  const waiting = await fillOutbox(zk, 30, 1);
  const drain = await startDrain(
    zk,
    store,
    { outboxWarnDepth: 10, batchNodes: 5 },
    { backlogEvent: (detail) => syntheticEvent('audit.backlog', { detail }) },
  );
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'drained' });
  const stored = drain.committed.flat();
  const backlog = stored.filter((e) => e.type === 'audit.backlog');
  expect(backlog).toHaveLength(1);
  expect(backlog[0].detail).toEqual({ depth: 30, threshold: 10 });
  // Written when the backlog was seen: after the 30 waiting events.
  expect(stored.indexOf(backlog[0])).toBeGreaterThanOrEqual(waiting.length);
  expect(await storedIds(waiting)).toEqual(waiting.map((e) => e.id));
});

it('wakes up on a new node without polling, after idling on an empty outbox', async () => {
  const { zk } = await freshRoot();
  const spy = jest.spyOn(zk, 'children');
  const listings = (): number => spy.mock.calls.filter(([path]) => path === ZkLayout.outbox).length;
  const drain = await startDrain(zk, store);
  await timing.waitFor(() => listings() > 0, { message: 'first listing' });
  await timing.sleep(500); // idle: nothing to do, and nothing is asked
  expect(listings()).toBe(1);
  const events = await fillOutbox(zk, 2, 2);
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'drained' });
  expect(drain.committed.flat().map((e) => e.id)).toEqual(events.map((e) => e.id));
});

it('a drainer deposed between its commit and its delete: the successor drains the same nodes, each event stored once', async () => {
  const { root, zk } = await freshRoot();
  const first = await session(root);
  // The first drainer commits, then pauses before deleting, and loses its session there.
  const a = await startDrain(first, store, { drainPauseMs: 60_000, batchNodes: 5 });
  const events = await fillOutbox(zk, 20, 2);
  await timing.waitFor(() => a.committed.length > 0, { message: 'first batch committed' });
  await expireSession(server.connectString, first.sessionCredentials());
  await a.election.close(); // it must not stand again with its next session
  expect(await outboxDepth(zk)).toBe(20); // stored, not deleted

  const b = await startDrain(zk, store);
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'drained by b' });
  expect(await storedIds(events)).toEqual(events.map((e) => e.id));
  expect(
    await metric(b.registry, 'zks_registry_drained_events_total', '{outcome="duplicate"}'),
  ).toBe(a.committed[0].length);
});

it('moves a node PostgreSQL refuses while answering to /audit/dead and stores the others', async () => {
  const { zk } = await freshRoot();
  const poison = syntheticEvent('task.created', { taskId: 'poison' });
  const picky: AuditStore = Object.create(store) as AuditStore;
  picky.append = (events) =>
    events.some((e) => e.id === poison.id)
      ? Promise.reject(new Error('value too long for type character varying'))
      : store.append(events);
  let index = 0;
  const events = await fillOutbox(zk, 9, 1, () =>
    index++ === 4 ? poison : syntheticEvent('task.created'),
  );
  const drain = await startDrain(zk, picky);
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, {
    timeoutMs: 20_000,
    message: 'drained',
  });
  const good = events.filter((e) => e.id !== poison.id);
  expect(await storedIds(events)).toEqual(good.map((e) => e.id));
  const dead = (await zk.children(ZkLayout.deadLetters)).children;
  expect(dead).toHaveLength(1);
  expect((await zk.get(ZkLayout.deadLetter(dead[0]))).data.toString()).toContain(poison.id);
  expect(
    await metric(drain.registry, 'zks_registry_outbox_dead_letters_total', '{reason="refused"}'),
  ).toBe(1);
});

it('backs off while the store is unavailable, deletes nothing, and resumes', async () => {
  const { zk } = await freshRoot();
  let down = true;
  let attempts = 0;
  const times: number[] = [];
  const flaky: AuditStore = Object.create(store) as AuditStore;
  flaky.append = (events) => {
    if (!down) return store.append(events);
    attempts += 1;
    times.push(performance.now());
    return Promise.reject(new AuditUnavailableError('PostgreSQL is unavailable: test'));
  };
  flaky.ping = () => Promise.resolve(!down);
  const drain = await startDrain(zk, flaky);
  const events = await fillOutbox(zk, 12, 2);
  await timing.waitFor(() => attempts >= 5, { message: 'several attempts' });
  expect(await outboxDepth(zk)).toBe(12);
  expect(await metric(drain.registry, 'zks_registry_outbox_depth')).toBe(12);
  expect(
    await metric(drain.registry, 'zks_registry_postgres_errors_total', '{operation="append"}'),
  ).toBe(attempts);
  // Exponential (100, 200, 400 ms less up to 20 % jitter), capped at maxBackoffMs (400).
  const gaps = times.slice(1, 5).map((t, i) => t - times[i]);
  expect(gaps[1]).toBeGreaterThan(gaps[0] * 1.3);
  expect(gaps[2]).toBeGreaterThan(gaps[1] * 1.3);
  expect(Math.max(...gaps)).toBeLessThan(timing.ms(400) + 150);
  down = false;
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'drained once back' });
  expect(await storedIds(events)).toEqual(events.map((e) => e.id));
});
