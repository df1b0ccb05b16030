/**
 * Lock against a real ZooKeeper: mutual exclusion under contention (with a
 * control run showing the same workload races without the lock), session
 * expiry of the holder, timeouts, protected creates and predecessor-only watches
 * (read from the server with `wchp`).
 */
import { randomUUID } from 'node:crypto';

import { ConnectionLossError, ZkClient, ZkCode } from '@app/zk';
import { Lock, LockTimeoutError } from '@app/zk/recipes/lock';
import { EventQueue, expireSession, TestingServer, timing } from '@app/zk/testing';

const SESSION_TIMEOUT_MS = 2_000;

let server: TestingServer;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  server = await TestingServer.start();
}, timing.ms(30_000));

afterAll(async () => {
  await server?.close();
}, timing.ms(30_000));

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

async function newClient(root: string): Promise<ZkClient> {
  const client = new ZkClient({
    connectString: server.connectString,
    root,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
  });
  await client.start();
  closers.push(() => client.close());
  return client;
}

async function newLock(client: ZkClient, path = '/lock'): Promise<Lock> {
  const lock = new Lock(client, { path });
  await lock.start();
  closers.push(() => lock.close());
  return lock;
}

const freshRoot = (): string => `/t-${randomUUID()}`;

interface Section {
  enter(): Promise<void>;
  exit(): Promise<void>;
}

/**
 * 5 workers × 20 rounds of a read-modify-write of a ZooKeeper counter (with an
 * await in between, so other workers run), and an "inside" flag checked on entry.
 */
async function contend(clients: ZkClient[], sections: Section[]) {
  await clients[0].create('/counter', '0');
  let inside = 0;
  let overlaps = 0;
  await Promise.all(
    clients.map(async (client, worker) => {
      for (let round = 0; round < 20; round++) {
        await sections[worker].enter();
        if (inside > 0) overlaps++;
        inside++;
        const { data } = await client.get('/counter');
        await new Promise((resolve) => setImmediate(resolve));
        await client.set('/counter', String(Number(data.toString()) + 1));
        inside--;
        await sections[worker].exit();
      }
    }),
  );
  const count = Number((await clients[0].get('/counter')).data.toString());
  return { count, overlaps };
}

describe('Lock', () => {
  test(
    '5 clients × 20 acquisitions: count 100, never two holders at once',
    async () => {
      const root = freshRoot();
      const clients = await Promise.all(Array.from({ length: 5 }, () => newClient(root)));
      const locks = await Promise.all(clients.map((client) => newLock(client)));
      const started = Date.now();
      const { count, overlaps } = await contend(
        clients,
        locks.map((lock) => ({ enter: () => lock.acquire(10_000), exit: () => lock.release() })),
      );
      const elapsed = Date.now() - started;
      console.log(
        `lock: 100 acquisitions by 5 clients in ${elapsed} ms (${(elapsed / 100).toFixed(1)} ms each)`,
      );
      expect(overlaps).toBe(0);
      expect(count).toBe(100);
      expect((await clients[0].children('/lock')).children).toEqual([]);
    },
    timing.ms(30_000),
  );

  test(
    'control: the same workload without the lock overlaps and loses updates',
    async () => {
      const root = freshRoot();
      const clients = await Promise.all(Array.from({ length: 5 }, () => newClient(root)));
      const none: Section = { enter: async () => undefined, exit: async () => undefined };
      const { count, overlaps } = await contend(
        clients,
        clients.map(() => none),
      );
      expect(overlaps).toBeGreaterThan(0);
      expect(count).toBeLessThan(100);
    },
    timing.ms(30_000),
  );

  test(
    'the holder’s session expires: it hears lost, the next waiter acquires',
    async () => {
      const root = freshRoot();
      const [clientA, clientB] = await Promise.all([newClient(root), newClient(root)]);
      const [a, b] = await Promise.all([newLock(clientA), newLock(clientB)]);
      const events = new EventQueue<string>();
      a.on('lost', (reason) => events.push(`a lost: ${reason}`));
      await a.acquire();
      expect(a.isHeld).toBe(true);
      const bAcquired = b.acquire(10_000).then(() => events.push('b acquired'));
      await timing.waitFor(async () => (await clientB.children('/lock')).children.length === 2);
      expect(b.isHeld).toBe(false);

      await expireSession(server.connectString, clientA.sessionCredentials());
      const seen = [await events.next(), await events.next()].sort();
      expect(seen).toEqual(['a lost: session', 'b acquired']);
      await bAcquired;
      expect(a.isHeld).toBe(false);
      expect(b.isHeld).toBe(true);
      await a.release(); // after `lost`: resets quietly, safe in a finally
      const { children } = await clientB.children('/lock');
      expect(children.map((name) => `/lock/${name}`)).toEqual([b.lockPath]);
      // A can compete again on its new session.
      const again = a.acquire(10_000);
      await b.release();
      await again;
      expect(a.isHeld).toBe(true);
    },
    timing.ms(20_000),
  );

  test(
    'acquire with a timeout rejects and deletes its node; not reentrant',
    async () => {
      const root = freshRoot();
      const [clientA, clientB] = await Promise.all([newClient(root), newClient(root)]);
      const [a, b] = await Promise.all([newLock(clientA), newLock(clientB)]);
      await a.acquire();
      await expect(a.acquire()).rejects.toThrow(/not reentrant/);
      const started = Date.now();
      await expect(b.acquire(300)).rejects.toBeInstanceOf(LockTimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      const { children } = await clientA.children('/lock');
      expect(children.map((name) => `/lock/${name}`)).toEqual([a.lockPath]);
      await a.release();
      await expect(a.release()).rejects.toThrow(/not held/);
      await b.acquire(1_000);
      expect(b.isHeld).toBe(true);
    },
    timing.ms(20_000),
  );

  test(
    'waiters watch only their predecessor (no herd), seen in the server’s watch table',
    async () => {
      const root = freshRoot();
      const clients = await Promise.all(Array.from({ length: 5 }, () => newClient(root)));
      const locks = await Promise.all(clients.map((client) => newLock(client)));
      await locks[0].acquire();
      const waiting = locks.slice(1).map((lock) => lock.acquire(10_000));
      await timing.waitFor(async () => (await clients[0].children('/lock')).children.length === 5);

      const order = await contenderSessions(clients[0], root);
      // Each contender node is watched by the next one's session, plus the holder's own watch on its node.
      const expected = new Map<string, string[]>();
      order.forEach(({ path }, index) => {
        const watchers = index + 1 < order.length ? [order[index + 1].session] : [];
        if (index === 0) watchers.push(order[0].session);
        expected.set(path, watchers.sort());
      });
      await timing.waitFor(
        async () => {
          const table = await watchesByPath();
          return [...expected].every(([path, sessions]) =>
            sameList(table.get(path) ?? [], sessions),
          );
        },
        { timeoutMs: 5_000, message: 'watches are not predecessor-only' },
      );
      const table = await watchesByPath();
      expect(table.get(`${root}/lock`)).toBeUndefined(); // nobody watches the children list
      for (const [path, sessions] of expected)
        expect((table.get(path) ?? []).sort()).toEqual(sessions);

      // Release in turn: each waiter gets it in creation order.
      const holders: number[] = [];
      locks.forEach((lock, index) => lock.on('acquired', () => holders.push(index)));
      for (let i = 0; i < 4; i++) {
        const holder = locks.findIndex((lock) => lock.isHeld);
        await locks[holder].release();
        await timing.waitFor(() => holders.length === i + 1, {
          message: 'next waiter did not acquire',
        });
      }
      await Promise.all(waiting);
      expect(holders).toEqual(
        order
          .slice(1)
          .map(({ session }) => clients.findIndex((c) => c.sessionInfo?.sessionId === session)),
      );
    },
    timing.ms(20_000),
  );

  test(
    'protected create: a create whose reply was lost is found again, not duplicated',
    async () => {
      const root = freshRoot();
      const real = await newClient(root);
      let mode: 'lose-reply' | 'lose-request' | 'normal' = 'lose-reply';
      const flaky = new Proxy(real, {
        get(target, property, receiver) {
          if (property === 'create') {
            return async (...args: Parameters<ZkClient['create']>) => {
              const current = mode;
              mode = 'normal';
              if (current === 'lose-request')
                throw new ConnectionLossError('lost before sending', ZkCode.CONNECTION_LOSS);
              const created = await target.create(...args);
              if (current === 'lose-reply')
                throw new ConnectionLossError('reply lost', ZkCode.CONNECTION_LOSS);
              return created;
            };
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function'
            ? (value as (...a: unknown[]) => unknown).bind(target)
            : value;
        },
      });
      const lock = await newLock(flaky);
      await lock.acquire(5_000);
      let { children } = await real.children('/lock');
      expect(children).toHaveLength(1);
      expect(`/lock/${children[0]}`).toBe(lock.lockPath);
      expect(children[0]).toMatch(/^_c_[0-9a-f-]{36}-lock-\d{10}$/);
      await lock.release();

      mode = 'lose-request';
      await lock.acquire(5_000);
      ({ children } = await real.children('/lock'));
      expect(children).toHaveLength(1);
      expect(`/lock/${children[0]}`).toBe(lock.lockPath);
    },
    timing.ms(20_000),
  );

  test(
    'lifecycle: start twice throws; close releases a held lock and aborts a waiting acquire',
    async () => {
      const root = freshRoot();
      const [clientA, clientB] = await Promise.all([newClient(root), newClient(root)]);
      const a = await newLock(clientA);
      await expect(a.start()).rejects.toThrow(/called when started/);
      const b = await newLock(clientB);
      await a.acquire();
      const waiting = b.acquire();
      await timing.waitFor(async () => (await clientA.children('/lock')).children.length === 2);
      await b.close();
      await expect(waiting).rejects.toThrow(/closed/);
      await a.close();
      expect((await clientA.children('/lock')).children).toEqual([]);
      await expect(a.acquire()).rejects.toThrow(/called when closed/);
    },
    timing.ms(20_000),
  );
});

/** Contender node paths (absolute, as the server names them) in lock order, with their owner sessions. */
async function contenderSessions(client: ZkClient, root: string) {
  const { children } = await client.children('/lock');
  const sorted = [...children].sort((x, y) => Number(x.slice(-10)) - Number(y.slice(-10)));
  return Promise.all(
    sorted.map(async (name) => {
      const { stat } = await client.get(`/lock/${name}`);
      return { path: `${root}/lock/${name}`, session: stat.ephemeralOwner ?? '' };
    }),
  );
}

/** `wchp`: path → watching session ids (16 hex digits, like ZkStat.ephemeralOwner). */
async function watchesByPath(): Promise<Map<string, string[]>> {
  const table = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of (await server.fourLetterWord('wchp')).split('\n')) {
    if (line.startsWith('/')) {
      current = [];
      table.set(line.trim(), current);
    } else if (line.trim().startsWith('0x') && current) {
      current.push(line.trim().slice(2).padStart(16, '0'));
    }
  }
  return table;
}

function sameList(a: string[], b: string[]): boolean {
  return (
    a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index])
  );
}
