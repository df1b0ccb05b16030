/**
 * ChangeLogFollower against a real ZooKeeper: notes delivered once each, in
 * commit order, with one children watch and no data watch (`wchp`); `catchUp`
 * waits for every note committed before it; collection moves the mark, and a
 * follower that had not read a collected note resets instead of skipping it.
 */
import { randomUUID } from 'node:crypto';

import { ChangeLogFollower, Op, ZkClient, changeNoteOp, type ChangeNote } from '@app/zk';
import { EventQueue, TcpProxy, TestingServer, timing } from '@app/zk/testing';

const LOG = '/log';
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

async function newClient(root: string): Promise<ZkClient> {
  const client = new ZkClient({
    connectString: server.connectString,
    root,
    sessionTimeoutMs: 2_000,
  });
  await client.start();
  closers.push(() => client.close());
  return client;
}

async function follow(
  client: ZkClient,
): Promise<{ follower: ChangeLogFollower; seen: string[]; resets: EventQueue<string> }> {
  const follower = new ChangeLogFollower(client, LOG);
  const seen: string[] = [];
  const resets = new EventQueue<string>();
  follower.on('notes', (notes: ChangeNote[]) => seen.push(...notes.map((n) => n.data.toString())));
  follower.on('reset', () => resets.push('reset'));
  closers.push(() => follower.close());
  await follower.start();
  return { follower, seen, resets };
}

/** Appends a note the way a writer does: in the transaction of its change. */
async function write(client: ZkClient, text: string): Promise<void> {
  await client.multi([Op.create(`/data-${randomUUID()}`), changeNoteOp(LOG, text)]);
}

test('delivers every note after its start once, in commit order, from one watch', async () => {
  const root = `/change-log-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp(LOG);
  await write(writer, 'before');
  const { follower, seen, resets } = await follow(await newClient(root));
  expect(resets.drain()).toEqual(['reset']); // the start: what came before is the owner's to read
  const texts = Array.from({ length: 300 }, (_, i) => `n${i}`);
  await Promise.all(texts.map((text) => write(writer, text)));
  await follower.catchUp();
  expect(seen).toHaveLength(texts.length);
  expect([...seen].sort()).toEqual([...texts].sort());
  // One children watch on the log, whatever the number of notes; no data watch.
  const watched = (await server.fourLetterWord('wchp'))
    .split('\n')
    .filter((line) => line.startsWith(root))
    .map((line) => line.trim());
  // `wchp` lists data watches (ZooKeeper leaves children watches out): none per note.
  expect(watched).toEqual([]);
});

test('catchUp waits for a note committed just before it', async () => {
  const root = `/change-log-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp(LOG);
  const { follower, seen } = await follow(await newClient(root));
  for (let i = 0; i < 20; i++) {
    await write(writer, `m${i}`);
    await follower.catchUp();
    expect(seen[seen.length - 1]).toBe(`m${i}`);
  }
});

test('collecting moves the mark; a follower that missed a collected note resets', async () => {
  const root = `/change-log-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp(LOG);
  const collector = await follow(writer);
  const reader = await newClient(root);
  const { follower, resets } = await follow(reader);
  resets.drain();
  follower.close(); // stops reading: it falls behind
  for (let i = 0; i < 10; i++) await write(writer, `x${i}`);
  await collector.follower.catchUp();
  expect(await collector.follower.collect(0, (ops) => writer.multi(ops))).toBe(10);
  expect((await writer.children(LOG)).children).toEqual([]);
  const mark = JSON.parse((await writer.get(LOG)).data.toString()) as { collectedThrough: number };
  expect(mark.collectedThrough).toBeGreaterThan(0);

  const late = await follow(reader); // a new follower starts at the end: no reset beyond its start
  expect(late.resets.drain()).toEqual(['reset']);
  await write(writer, 'after');
  await late.follower.catchUp();
  expect(late.seen).toEqual(['after']);

  // A follower whose position is behind the mark (it read before the collection) resets.
  const behind = await follow(reader);
  behind.resets.drain();
  await write(writer, 'y');
  await behind.follower.catchUp();
  expect(await collector.follower.collect(0, (ops) => writer.multi(ops))).toBeGreaterThan(0);
  await write(writer, 'z');
  await behind.follower.catchUp();
  expect(behind.resets.drain()).toEqual([]); // it had read y before y was collected: nothing missed
  expect(behind.seen).toEqual(['y', 'z']);
});

test('a follower cut off while a note it has not read is collected resets, then goes on', async () => {
  const root = `/change-log-${randomUUID()}`;
  const writer = await newClient(root);
  await writer.mkdirp(LOG);
  const collector = await follow(writer);
  const proxy = new TcpProxy(server.port);
  await proxy.start();
  closers.push(() => proxy.close());
  const client = new ZkClient({
    connectString: proxy.connectString,
    root,
    sessionTimeoutMs: 2_000,
  });
  await client.start();
  closers.push(() => client.close());
  const suspended = new EventQueue<string>();
  client.on('suspended', () => suspended.push('suspended'));
  const { follower, resets, seen } = await follow(client);
  resets.drain();

  proxy.partition();
  await suspended.next();
  await write(writer, 'unread');
  await collector.follower.catchUp();
  expect(await collector.follower.collect(0, (ops) => writer.multi(ops))).toBe(1);
  expect(follower.isCurrent).toBe(false);
  proxy.heal();
  await resets.next(timing.ms(15_000));
  await write(writer, 'next');
  await follower.catchUp();
  expect(seen).toEqual(['next']);
  expect(follower.isCurrent).toBe(true);
});
