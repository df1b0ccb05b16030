/**
 * DistributedQueue against a real ZooKeeper: consumers in child processes, one
 * killed with claims held; a consumer whose session expires mid-item; requeue,
 * dead-lettering and close. Every test checks the end state in ZooKeeper itself
 * (items and claims empty), not only what the consumers say.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { ZkClient } from '@app/zk';
import {
  ClaimLostError,
  DistributedQueue,
  QueueHandlerError,
  type DistributedQueueOptions,
  type QueueMessage,
} from '@app/zk/recipes/distributed-queue';
import { EventQueue, expireSession, FixtureProcess, TestingServer, timing } from '@app/zk/testing';

import type { ConsumerCommand, ConsumerReport } from './fixtures/queue-consumer';

const FIXTURE = join(__dirname, 'fixtures', 'queue-consumer.ts');
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

async function newQueue(client: ZkClient, options: Partial<DistributedQueueOptions> = {}) {
  const queue = new DistributedQueue(client, { path: '/queue', ...options });
  await queue.start();
  closers.push(() => queue.close());
  return queue;
}

async function childrenOf(client: ZkClient, path: string): Promise<string[]> {
  return (await client.children(path)).children;
}

/** Items/s between the first samples at or above 20 % and 90 % of `total`. */
function steadyRate(timeline: Array<{ n: number; at: number }>, total: number): number {
  const from = timeline.find((p) => p.n >= total * 0.2);
  const to = timeline.find((p) => p.n >= total * 0.9);
  if (!from || !to || to.at === from.at) return NaN;
  return Math.round((to.n - from.n) / ((to.at - from.at) / 1000));
}

/** Collects a fixture's reports as they arrive (drained on every poll). */
class Reports {
  readonly all: ConsumerReport[] = [];
  constructor(readonly fixture: FixtureProcess<ConsumerReport, ConsumerCommand>) {}

  poll(): this {
    this.all.push(...this.fixture.messages.drain());
    return this;
  }

  of<T extends ConsumerReport['type']>(type: T): Extract<ConsumerReport, { type: T }>[] {
    return this.poll().all.filter(
      (r): r is Extract<ConsumerReport, { type: T }> => r.type === type,
    );
  }
}

describe('DistributedQueue', () => {
  test(
    '1,000 items, 3 consumer processes, one kill -9ed holding claims: each item consumed exactly once',
    async () => {
      const root = `/t-${randomUUID()}`;
      const zk = await newClient(root);
      const producer = await newQueue(zk);
      const spawn = (id: string, concurrency: number, mode: string, extra: string[] = []) => {
        const fixture = FixtureProcess.spawn<ConsumerReport, ConsumerCommand>(FIXTURE, {
          args: [server.connectString, root, '/queue', id, String(concurrency), mode, ...extra],
        });
        closers.push(() => fixture.kill('SIGKILL'));
        return new Reports(fixture);
      };
      const fastA = spawn('fast-a', 8, 'fast');
      const fastB = spawn('fast-b', 8, 'fast');
      const victim = spawn('victim', 4, 'victim', ['20', '10']);
      const consumers = [fastA, fastB, victim];
      await Promise.all(
        consumers.map(async (c) => {
          const ready = await c.fixture.waitFor((m) => m.type === 'ready', 20_000);
          c.all.push(ready);
        }),
      );

      const total = 1_000;
      const startedAt = Date.now();
      await producer.putMany(Array.from({ length: total }, (_, i) => i));
      const putMs = Date.now() - startedAt;

      // Kill the victim once it is hung with claims held and no delete can be in flight:
      // every handler it started is either consumed or stuck (and stuck ones never return).
      await timing.waitFor(
        () => {
          const stuck = victim.of('stuck').length;
          return (
            stuck === 4 && victim.of('started').length === victim.of('consumed').length + stuck
          );
        },
        { timeoutMs: 15_000, message: () => `victim never got stuck: ${victim.fixture.output}` },
      );
      const stuck = victim.of('stuck');
      const claimsAtKill = (await zk.children('/queue/claims')).children;
      const victimClaims: string[] = [];
      for (const name of claimsAtKill) {
        try {
          const { data } = await zk.get(`/queue/claims/${name}`);
          if (data.toString() === 'victim') victimClaims.push(name);
        } catch {
          // released meanwhile by a fast consumer: not the victim's
        }
      }
      const consumedBeforeKill = consumers.reduce((n, c) => n + c.of('consumed').length, 0);
      await victim.fixture.kill('SIGKILL');
      const killedAt = Date.now();

      const consumed = (): ConsumerReport[] => consumers.flatMap((c) => c.of('consumed'));
      const distinct = (): number =>
        new Set(consumed().map((r) => (r as { value: number }).value)).size;
      // Everything but the dead consumer's items, then those too once its session expired.
      const timeline: Array<{ n: number; at: number }> = [];
      const bucket = (count: number): number => Math.floor((count / total) * 10);
      const sample = (): number => {
        const n = distinct();
        if (timeline.length === 0 || bucket(timeline[timeline.length - 1].n) !== bucket(n)) {
          timeline.push({ n, at: Date.now() - startedAt });
        }
        return n;
      };
      await timing.waitFor(() => sample() >= total - stuck.length, {
        timeoutMs: 20_000,
        message: () => `only ${distinct()} consumed`,
      });
      const restDoneAt = Date.now();
      await timing.waitFor(() => sample() === total, {
        timeoutMs: 20_000,
        message: () => `only ${distinct()} consumed`,
      });
      const doneAt = Date.now();

      for (const c of [fastA, fastB]) {
        c.fixture.send({ type: 'close' });
        await c.fixture.waitFor((m) => m.type === 'closed', 10_000);
        await timing.withTimeout(c.fixture.exited, 10_000, 'consumer did not exit');
      }

      // Exactly-once consumption: every value consumed once, none twice, none missing.
      const counts = new Map<number, number>();
      for (const r of consumed()) {
        const value = (r as { value: number }).value;
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
      expect(counts.size).toBe(total);
      expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
      // ZooKeeper agrees: nothing queued, nothing claimed.
      expect(await childrenOf(zk, '/queue/items')).toEqual([]);
      expect(await childrenOf(zk, '/queue/claims')).toEqual([]);

      // The victim really held claims when it died, and each of its items went to another consumer.
      expect(stuck.length).toBeGreaterThanOrEqual(1);
      expect(victimClaims.sort()).toEqual(stuck.map((s) => s.name).sort());
      const victimConsumed = new Set(victim.of('consumed').map((r) => r.value));
      const byOthers = new Set(
        [...fastA.of('consumed'), ...fastB.of('consumed')].map((r) => r.value),
      );
      for (const s of stuck) {
        expect(victimConsumed.has(s.value)).toBe(false);
        expect(byOthers.has(s.value)).toBe(true);
      }
      // Items the victim had handled but not deleted were handled again by another consumer.
      const handledByOthers = new Set(
        [...fastA.of('handled'), ...fastB.of('handled')].map((r) => r.value),
      );
      const handledTwice = stuck.filter((s) => s.afterWork);
      expect(handledTwice.length).toBeGreaterThanOrEqual(1);
      for (const s of handledTwice) expect(handledByOthers.has(s.value)).toBe(true);
      const handledOverall = consumers.reduce((n, c) => n + c.of('handled').length, 0);
      expect(victim.of('consumed').length).toBeGreaterThanOrEqual(10);
      expect(fastA.of('consumed').length).toBeGreaterThan(0);
      expect(fastB.of('consumed').length).toBeGreaterThan(0);
      expect(consumers.flatMap((c) => c.of('error'))).toEqual([]);

      const seconds = (ms: number): string => (ms / 1000).toFixed(2);
      console.log(
        [
          `queue: ${total} items, 3 consumer processes (8 + 8 + victim 4)`,
          `  putMany: ${putMs} ms (${Math.round(total / (putMs / 1000))} items/s)`,
          `  consumed before the kill: ${consumedBeforeKill} in ${seconds(killedAt - startedAt)} s (handlers of the victim sleep 20 ms)`,
          `  all but the victim's ${stuck.length} items: ${seconds(restDoneAt - startedAt)} s after the first put ` +
            `(${Math.round((total - stuck.length) / ((restDoneAt - startedAt) / 1000))} items/s, put + claim + handle + delete)`,
          `  all consumed after ${seconds(doneAt - startedAt)} s (${Math.round(total / ((doneAt - startedAt) / 1000))} items/s overall), ` +
            `${seconds(doneAt - killedAt)} s after the kill (session timeout ${SESSION_TIMEOUT_MS} ms)`,
          `  progress (distinct consumed @ s since the first put): ${timeline.map((p) => `${p.n}@${seconds(p.at)}`).join(' ')}`,
          `  steady rate (20% → 90%): ${steadyRate(timeline, total)} items/s`,
          `  per consumer: fast-a ${fastA.of('consumed').length}, fast-b ${fastB.of('consumed').length}, victim ${victim.of('consumed').length}`,
          `  victim held ${stuck.length} claims when killed; ${handledTwice.length} of those items had been handled (not deleted) and were handled again; handler runs overall ${handledOverall}`,
        ].join('\n'),
      );
    },
    timing.ms(60_000),
  );

  test(
    'a consumer whose session expires mid-item loses its claim; its late delete fails even while another holds the item',
    async () => {
      const root = `/t-${randomUUID()}`;
      const clientA = await newClient(root);
      const clientB = await newClient(root);
      const queueA = await newQueue(clientA);
      const queueB = await newQueue(clientB);
      const log: string[] = [];
      const aErrors = new EventQueue<Error>();
      queueA.on('error', aErrors.push);
      queueA.on('consumed', (e) => log.push(`A consumed ${String(e.value)}`));
      queueB.on('consumed', (e) => log.push(`B consumed ${String(e.value)}`));

      // Both handlers block on 'first' until the test lets them go.
      const inHandler = new EventQueue<string>();
      const gates = new Map<string, () => void>();
      const signals = new Map<string, AbortSignal>();
      const blocking =
        (who: string) =>
        async (message: QueueMessage): Promise<void> => {
          log.push(`${who} handles ${String(message.value)}`);
          if (message.value !== 'first') return;
          signals.set(who, message.signal);
          const gate = new Promise<void>((resolve) => gates.set(who, resolve));
          inHandler.push(who);
          await gate;
          log.push(`${who} done, signal ${message.signal.aborted ? 'aborted' : 'live'}`);
        };
      queueA.consume(blocking('A'), { concurrency: 1 });
      await queueA.put('first');
      expect(await inHandler.next()).toBe('A');
      const [item] = await childrenOf(clientA, '/queue/items');
      // Read through B: A's own operations fail while its session is replaced.
      const claimOf = async (): Promise<string | null> =>
        (await clientB.get(`/queue/claims/${item}`)).stat.ephemeralOwner;
      const sessionA = clientA.sessionInfo?.sessionId;
      expect(await claimOf()).toBe(sessionA);

      queueB.consume(blocking('B'), { concurrency: 2 });
      await expireSession(server.connectString, clientA.sessionCredentials());
      // A's claim died with its session; B (watching claims) took the item over.
      expect(await inHandler.next()).toBe('B');
      expect(await claimOf()).toBe(clientB.sessionInfo?.sessionId);

      // A's handler is told once A's client learns of the expiry, which may come after
      // B's claim (B's watch and A's reconnect race).
      await timing.waitFor(() => signals.get('A')?.aborted === true, {
        message: "A's handler was not told that its session expired",
      });
      // A finishes now, while B holds the item: ZooKeeper refuses A's delete (the item's
      // version moved when B claimed it), so nothing of B's is touched.
      gates.get('A')?.();
      const lost = await aErrors.next();
      expect(lost).toBeInstanceOf(ClaimLostError);
      expect((lost as ClaimLostError).item).toBe(item);
      expect(await childrenOf(clientB, '/queue/items')).toEqual([item]);
      expect(await claimOf()).toBe(clientB.sessionInfo?.sessionId);

      gates.get('B')?.();
      await timing.waitFor(() => log.includes('B consumed first'), {
        message: 'B did not consume',
      });
      expect(log).toEqual([
        'A handles first',
        'B handles first',
        'A done, signal aborted',
        'B done, signal live',
        'B consumed first',
      ]);

      // Nothing lost afterwards: both consumers (A on its new session) drain more items.
      await queueB.putMany(['x1', 'x2', 'x3', 'x4', 'x5', 'x6']);
      await timing.waitFor(async () => (await queueB.size()) === 0, {
        message: 'queue not drained',
      });
      const consumed = log
        .filter((line) => line.includes(' consumed '))
        .map((line) => line.slice(11));
      expect(consumed.sort()).toEqual(['first', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6']);
      expect(await childrenOf(clientB, '/queue/claims')).toEqual([]);
    },
    timing.ms(30_000),
  );

  test(
    'a failing handler requeues the item at the tail (attempt + 1), then parks it in failed/',
    async () => {
      const root = `/t-${randomUUID()}`;
      const client = await newClient(root);
      const queue = await newQueue(client, { maxAttempts: 2, ordering: 'fifo' });
      const events = new EventQueue<string>();
      queue.on('requeued', (e) => events.push(`requeued:${e.name}->${e.requeuedAs}`));
      queue.on('failed', (e) => events.push(`failed:${e.name}`));
      queue.on('error', (e) => {
        if (!(e instanceof QueueHandlerError)) events.push(`unexpected:${e.message}`);
      });
      const seen: string[] = [];
      await queue.putMany([{ job: 'poison' }, { job: 'fine' }, Buffer.from([1, 2, 3])]);
      queue.consume(
        (message) => {
          const label = Buffer.isBuffer(message.value)
            ? `bytes:${[...message.value].join(',')}`
            : (message.value as { job: string }).job;
          seen.push(`${label}#${message.attempt}`);
          if (label === 'poison') throw new Error('poison pill');
        },
        { concurrency: 1 },
      );
      const requeued = await events.nextMatching((e) => e.startsWith('requeued:'));
      expect(requeued).toMatch(/^requeued:item-j-1-\d{10}->item-j-2-\d{10}$/);
      const failed = await events.nextMatching(
        (e) => e.startsWith('failed:') || e.startsWith('unexpected:'),
      );
      expect(failed).toMatch(/^failed:item-j-2-\d{10}$/);
      await timing.waitFor(async () => (await queue.size()) === 0);
      // The retry went to the tail: both other items came before the second attempt.
      expect(seen).toEqual(['poison#1', 'fine#1', 'bytes:1,2,3#1', 'poison#2']);
      const parked = await childrenOf(client, '/queue/failed');
      expect(parked).toHaveLength(1);
      expect(JSON.parse((await client.get(`/queue/failed/${parked[0]}`)).data.toString())).toEqual({
        job: 'poison',
      });
      expect(await childrenOf(client, '/queue/claims')).toEqual([]);
    },
    timing.ms(20_000),
  );

  test(
    'close() waits for a running handler (bounded), then gives its claim back; the item stays',
    async () => {
      const root = `/t-${randomUUID()}`;
      const client = await newClient(root);
      const queue = new DistributedQueue(client, { path: '/queue', closeTimeoutMs: 300 });
      await queue.start();
      const started = new EventQueue<AbortSignal>();
      queue.consume((message) => {
        started.push(message.signal);
        return new Promise<void>(() => undefined); // never finishes
      });
      await queue.put('slow');
      const signal = await started.next();
      expect(await childrenOf(client, '/queue/claims')).toHaveLength(1);
      const closing = Date.now();
      await queue.close();
      expect(Date.now() - closing).toBeGreaterThanOrEqual(250);
      expect(signal.aborted).toBe(true);
      expect(await childrenOf(client, '/queue/claims')).toEqual([]);
      expect(await queue.size()).toBe(1);
      await expect(queue.start()).rejects.toThrow(/called when closed/);

      // Another consumer picks it up.
      const other = await newQueue(await newClient(root));
      const consumed = new EventQueue<string>();
      other.on('consumed', (e) => consumed.push(String(e.value)));
      other.consume(() => undefined);
      expect(await consumed.next()).toBe('slow');
    },
    timing.ms(20_000),
  );
});
