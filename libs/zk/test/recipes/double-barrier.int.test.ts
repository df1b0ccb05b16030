/**
 * DoubleBarrier against a real ZooKeeper: five participants on three sessions
 * (one in a child process), checked against one ordering log; enter and leave
 * timeouts; session expiry during a wait.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { SessionExpiredError, ZkClient } from '@app/zk';
import { BarrierTimeoutError, DoubleBarrier } from '@app/zk/recipes/double-barrier';
import { expireSession, FixtureProcess, TestingServer, timing } from '@app/zk/testing';

import type { BarrierCommand, BarrierReport } from './fixtures/barrier-participant';

const FIXTURE = join(__dirname, 'fixtures', 'barrier-participant.ts');
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

async function newBarrier(client: ZkClient, id: string, memberCount = 5): Promise<DoubleBarrier> {
  const barrier = new DoubleBarrier(client, { path: '/barrier', memberCount, id });
  await barrier.start();
  closers.push(() => barrier.close());
  return barrier;
}

const freshRoot = (): string => `/t-${randomUUID()}`;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('DoubleBarrier', () => {
  test(
    '5 participants on 3 sessions and 2 processes: nobody passes enter before the 5th arrives, nor leave before all left',
    async () => {
      const root = freshRoot();
      // p0 and p1 share a session, p2 and p3 share another, p4 runs in a child process.
      const [c0, c1] = await Promise.all([newClient(root), newClient(root)]);
      const local = await Promise.all([
        newBarrier(c0, 'p0'),
        newBarrier(c0, 'p1'),
        newBarrier(c1, 'p2'),
        newBarrier(c1, 'p3'),
      ]);
      const child = FixtureProcess.spawn<BarrierReport, BarrierCommand>(FIXTURE, {
        args: [server.connectString, root, '/barrier', 'p4', '5'],
      });
      closers.push(() => child.kill('SIGKILL'));
      await child.waitFor((m) => m.type === 'ready', 20_000);

      // One log, in causal order: the child's arrival and departure are logged when we
      // tell it to move (before it can), its passes when its report arrives (after).
      const log: string[] = [];
      const pump = (async () => {
        for (;;) {
          const report = await child.messages.next(20_000);
          if (report.type === 'error') throw new Error(`child: ${report.message}`);
          log.push(`${report.type} p4`);
          if (report.type === 'left') return;
        }
      })();

      // Arrivals are staggered (the child arrives last), and so are departures (p1
      // first, p0 — the lowest — second, the child last), so an early pass would show.
      const leaveAfterMs = [60, 0, 120, 180, 240];
      const runs = local.map(async (barrier, i) => {
        await pause(i * 80);
        log.push(`arrive p${i}`);
        await barrier.enter(10_000);
        log.push(`entered p${i}`);
        await pause(leaveAfterMs[i]);
        log.push(`leaving p${i}`);
        await barrier.leave(10_000);
        log.push(`left p${i}`);
      });
      await pause(4 * 80 + 100);
      log.push('arrive p4');
      child.send({ type: 'enter' });
      await timing.waitFor(() => log.includes('entered p4'), { message: 'child did not enter' });
      await pause(leaveAfterMs[4]);
      log.push('leaving p4');
      child.send({ type: 'leave' });
      await Promise.all([...runs, pump]);

      const position = (entry: string): number => log.indexOf(entry);
      const all = (step: string): number[] => [0, 1, 2, 3, 4].map((i) => position(`${step} p${i}`));
      expect(all('arrive').every((p) => p >= 0)).toBe(true);
      expect(Math.min(...all('entered'))).toBeGreaterThan(Math.max(...all('arrive')));
      expect(Math.min(...all('left'))).toBeGreaterThan(Math.max(...all('leaving')));
      expect((await c0.children('/barrier')).children).toEqual([]); // ready removed too
    },
    timing.ms(30_000),
  );

  test(
    'enter times out with a clear error and removes its node',
    async () => {
      const root = freshRoot();
      const clients = await Promise.all([newClient(root), newClient(root), newClient(root)]);
      const barriers = await Promise.all(clients.map((client, i) => newBarrier(client, `p${i}`)));
      const started = Date.now();
      const results = await Promise.allSettled(barriers.map((barrier) => barrier.enter(400)));
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason as Error;
        expect(error).toBeInstanceOf(BarrierTimeoutError);
        expect(error.message).toMatch(
          /^DoubleBarrier \/barrier: enter timed out after 400 ms with [0-3] of 5 members present$/,
        );
      }
      expect((await clients[0].children('/barrier')).children).toEqual([]);
      expect(barriers.every((barrier) => !barrier.isInside)).toBe(true);
    },
    timing.ms(20_000),
  );

  test(
    'leave times out while another member stays inside; the stayer then leaves at once',
    async () => {
      const root = freshRoot();
      const [ca, cb] = await Promise.all([newClient(root), newClient(root)]);
      const [a, b] = await Promise.all([newBarrier(ca, 'a', 2), newBarrier(cb, 'b', 2)]);
      await Promise.all([a.enter(5_000), b.enter(5_000)]);
      await expect(a.leave(300)).rejects.toThrow(
        /^DoubleBarrier \/barrier: leave timed out after 300 ms with 1 other member\(s\) still inside$/,
      );
      expect((await ca.children('/barrier')).children.sort()).toEqual(['b', 'ready']);
      await b.leave(1_000);
      expect((await ca.children('/barrier')).children).toEqual([]);
    },
    timing.ms(20_000),
  );

  test(
    'the session expires while waiting in enter: enter rejects, it does not hang',
    async () => {
      const root = freshRoot();
      const client = await newClient(root);
      const barrier = await newBarrier(client, 'alone', 2);
      const entering = barrier.enter();
      await timing.waitFor(async () =>
        (await client.children('/barrier')).children.includes('alone'),
      );
      await expireSession(server.connectString, client.sessionCredentials());
      await expect(timing.withTimeout(entering, 5_000, 'enter hung')).rejects.toBeInstanceOf(
        SessionExpiredError,
      );
      expect(barrier.isInside).toBe(false);
      // The participant can try again on the client's new session.
      const other = await newBarrier(await newClient(root), 'other', 2);
      await Promise.all([barrier.enter(5_000), other.enter(5_000)]);
      expect(barrier.isInside && other.isInside).toBe(true);
    },
    timing.ms(20_000),
  );
});
