/**
 * PersistentWatcher against a real ZooKeeper: every creation, deletion and data
 * change at or under its path is reported without re-arming (one request for
 * any number of changes), nothing outside it; after the connection drops the
 * watch is set again (`reset`), and a new session sets it again too;
 * `close()` stops the reports. The one-shot watches of the same client keep
 * working beside it.
 */
import { randomUUID } from 'node:crypto';

import { Op, PersistentWatcher, ZkClient, type WatchEvent } from '@app/zk';
import { EventQueue, TcpProxy, TestingServer, expireSession, timing } from '@app/zk/testing';

let server: TestingServer;
const closers: Array<() => Promise<unknown> | void> = [];

beforeAll(async () => {
  server = await TestingServer.start();
}, timing.ms(30_000));

afterAll(async () => {
  await server?.close();
}, timing.ms(30_000));

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function newClient(root: string, connectString = server.connectString): Promise<ZkClient> {
  const client = new ZkClient({ connectString, root, sessionTimeoutMs: 2_000 });
  await client.start();
  closers.push(() => client.close());
  return client;
}

async function watch(
  client: ZkClient,
  path: string,
): Promise<{ watcher: PersistentWatcher; events: EventQueue<string>; resets: EventQueue<string> }> {
  const watcher = new PersistentWatcher(client, path);
  const events = new EventQueue<string>();
  const resets = new EventQueue<string>();
  watcher.on('change', (event: WatchEvent) => events.push(`${event.type} ${event.path}`));
  watcher.on('reset', () => resets.push('reset'));
  closers.push(() => watcher.close());
  expect(await watcher.start()).toBe(true);
  return { watcher, events, resets };
}

/** Resolves once `marker` is reported: everything committed before it has been reported too. */
async function upTo(
  events: EventQueue<string>,
  writer: ZkClient,
  marker: string,
): Promise<string[]> {
  await writer.create(marker);
  const seen: string[] = [];
  for (;;) {
    const event = await events.next(timing.ms(5_000));
    if (event === `created ${marker}`) return seen;
    seen.push(event);
  }
}

test('reports every change at or under its path, in commit order, from one request', async () => {
  const root = `/persistent-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp('/inbox');
  await writer.mkdirp('/elsewhere');
  const client = await newClient(root);
  const requestsBefore = client.requestsSent().get('addWatch') ?? 0;
  const { events } = await watch(client, '/inbox');

  await writer.multi([Op.create('/inbox/a', 'x'), Op.create('/inbox/_n-1', 'note')]);
  await writer.create('/elsewhere/b');
  await writer.create('/inbox/a/child');
  await writer.set('/inbox/a', 'y');
  await writer.multi([Op.delete('/inbox/_n-1'), Op.delete('/inbox/a/child')]);
  await writer.delete('/inbox/a');
  await writer.create('/inbox-sibling');

  expect(await upTo(events, writer, '/inbox/end')).toEqual([
    'created /inbox/a',
    'created /inbox/_n-1',
    'created /inbox/a/child',
    'dataChanged /inbox/a',
    'deleted /inbox/_n-1',
    'deleted /inbox/a/child',
    'deleted /inbox/a',
  ]);
  expect((client.requestsSent().get('addWatch') ?? 0) - requestsBefore).toBe(1);
});

test('one-shot watches of the same client fire beside it, once', async () => {
  const root = `/persistent-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp('/inbox');
  const client = await newClient(root);
  const { events } = await watch(client, '/inbox');
  const oneShot = new EventQueue<string>();
  await client.children('/inbox', (event) => oneShot.push(`${event.type} ${event.path}`));

  await writer.create('/inbox/a');
  await writer.create('/inbox/b');
  expect(await oneShot.next(timing.ms(5_000))).toBe('childrenChanged /inbox');
  expect(await upTo(events, writer, '/inbox/end')).toEqual([
    'created /inbox/a',
    'created /inbox/b',
  ]);
  expect(oneShot.drain()).toEqual([]);
});

test('set again after the connection comes back (reset), and after a new session', async () => {
  const root = `/persistent-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp('/inbox');
  const proxy = new TcpProxy(server.port);
  await proxy.start();
  closers.push(() => proxy.close());
  const client = await newClient(root, proxy.connectString);
  const { events, resets } = await watch(client, '/inbox');

  proxy.dropConnections();
  await resets.next(timing.ms(10_000));
  await writer.create('/inbox/after-reconnect');
  expect(await upTo(events, writer, '/inbox/end-1')).toEqual(['created /inbox/after-reconnect']);

  await expireSession(server.connectString, client.sessionCredentials());
  await resets.next(timing.ms(15_000));
  await writer.create('/inbox/after-new-session');
  expect(await upTo(events, writer, '/inbox/end-2')).toEqual(['created /inbox/after-new-session']);
});

test('close() stops the reports', async () => {
  const root = `/persistent-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp('/inbox');
  const client = await newClient(root);
  const { watcher, events } = await watch(client, '/inbox');
  await upTo(events, writer, '/inbox/before');
  await watcher.close();
  await writer.create('/inbox/after');
  // A read answered after the create: its event, if any, came before.
  await client.exists('/inbox/after');
  expect(events.drain()).toEqual([]);
});
