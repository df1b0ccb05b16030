/**
 * GroupMembership / GroupView against a real ZooKeeper server: members in this
 * process and in child processes (killed with kill -9), session expiry, a
 * server crash and restart, and a partition that leaves a stale node behind.
 * Every wait is on an event or a condition (scaled by ZK_TEST_TIMING).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createClient, type Client } from 'node-zookeeper-client';

import { ZkClient, type ZkClientEvents, type StructuredLogger } from '@app/zk';
import {
  EventQueue,
  expireSession,
  FixtureProcess,
  TcpProxy,
  TestingServer,
  timing,
  type SessionCredentials,
} from '@app/zk/testing';

import { DuplicateMemberError, GroupMembership } from '../../src/recipes/group-membership';
import { GroupView, MalformedMemberError } from '../../src/recipes/group-view';
import {
  entriesOf,
  logEntry,
  MEMBER_SETTINGS_ENV,
  type FromMember,
  type MemberData,
  type MemberSettings,
  type ToMember,
} from './fixtures/membership-messages';

const GROUP = '/members/workers';
const FIXTURE = join(__dirname, 'fixtures', 'membership-member.ts');
const TEST_TIMEOUT = timing.ms(60_000);

type Child = FixtureProcess<FromMember, ToMember>;
type Report = Extract<FromMember, { type: 'report' }>;
type ConnectionState = 'connected' | 'suspended' | 'reconnected' | 'lost';

let server: TestingServer;
let root: string;
const toClose: Array<() => Promise<unknown>> = [];
/** What clients and recipes logged during the test: appended to a failure's message. */
let trail: string[] = [];
let trailStart = Date.now();

function note(line: string): void {
  trail.push(`${String(Date.now() - trailStart).padStart(6)} ms  ${line}`);
}

function logger(label: string): StructuredLogger {
  const write = (message: string, context?: Record<string, unknown>): void =>
    note(`${label}: ${message} ${context ? JSON.stringify(context) : ''}`);
  return { log: write, warn: write, error: write };
}

/** Runs a test body; on failure the trail of client and recipe logs goes into the error. */
function traced(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- trail ---\n${trail.join('\n')}`;
      throw error;
    }
  };
}

beforeAll(async () => {
  server = await TestingServer.start();
}, timing.ms(60_000));

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  root = `/t-${randomUUID()}`;
  trail = [];
  trailStart = Date.now();
});

afterEach(async () => {
  // Last opened, first closed: recipes before their clients.
  for (const close of toClose.splice(0).reverse()) {
    await close().catch(() => undefined);
  }
});

function memberData(id: string, capacity: number): MemberData {
  return {
    endpoint: `http://${id}.local:3000`,
    pid: 4000 + capacity,
    capacity,
    labels: { zone: 'a' },
  };
}

/** A started ZkClient on this test's root, whose connection states are recorded. */
let clientCount = 0;

async function newClient(
  sessionTimeoutMs = 4_000,
  connectString = server.connectString,
): Promise<{ client: ZkClient; states: ConnectionState[] }> {
  const label = `client${++clientCount}`;
  const client = new ZkClient({ connectString, root, sessionTimeoutMs, logger: logger(label) });
  const states: ConnectionState[] = [];
  for (const state of ['connected', 'suspended', 'reconnected', 'lost'] as const) {
    client.on(state as keyof ZkClientEvents, () => {
      states.push(state);
      note(`${label}: ${state}`);
    });
  }
  toClose.push(() => client.close());
  await client.start();
  return { client, states };
}

function member(
  client: ZkClient,
  id: string,
  capacity: number,
  duplicateWaitMs?: number,
): GroupMembership<MemberData> {
  const membership = new GroupMembership<MemberData>(client, {
    path: GROUP,
    id,
    data: memberData(id, capacity),
    ...(duplicateWaitMs === undefined ? {} : { duplicateWaitMs }),
    logger: logger(`member ${id}@${client.sessionInfo?.sessionId ?? '?'}`),
  });
  membership.on('error', (error) => note(`member ${id} error: ${error.message}`));
  toClose.push(() => membership.close());
  return membership;
}

/** Every joined/left/updated event of a view, in `logEntry` form, also as a queue. */
class Recorder {
  readonly log: string[] = [];
  readonly queue = new EventQueue<string>();

  constructor(source: GroupView<MemberData> | GroupMembership<MemberData>) {
    const view = source as GroupView<MemberData>;
    view.on('joined', (id, data) => this.record(logEntry('joined', id, data)));
    view.on('left', (id, data) => this.record(logEntry('left', id, data)));
    view.on('updated', (id, data, previous) =>
      this.record(logEntry('updated', id, data, previous)),
    );
  }

  of(id: string): string[] {
    return entriesOf(this.log, id);
  }

  /** Waits for `entry` (e.g. 'left:w3:3'), skipping others in the queue (not in the log). */
  async saw(entry: string, timeoutMs = 10_000): Promise<void> {
    await this.queue.nextMatching((seen) => seen === entry, timeoutMs, entry);
  }

  private record(entry: string): void {
    note(`view event ${entry}`);
    this.log.push(entry);
    this.queue.push(entry);
  }
}

/**
 * Deep equality by canonical JSON (sorted keys). Not util.isDeepStrictEqual: objects
 * that came over IPC were built in Node's own realm, not in jest's sandbox, so their
 * prototypes differ from the sandbox's and strict equality fails on equal data.
 */
function sameJson(actual: unknown, expected: unknown): boolean {
  return canonical(actual) === canonical(expected);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

interface HasMembers {
  members(): ReadonlyMap<string, MemberData>;
}

async function converged(
  views: readonly HasMembers[],
  expected: Record<string, MemberData>,
  timeoutMs = 10_000,
): Promise<void> {
  await timing.waitFor(
    () => views.every((view) => sameJson(Object.fromEntries(view.members()), expected)),
    {
      timeoutMs,
      message: () =>
        `views did not converge to ${Object.keys(expected).join(',')}: ` +
        JSON.stringify(views.map((view) => Object.keys(Object.fromEntries(view.members())))),
    },
  );
}

function spawnMember(
  id: string,
  capacity: number,
  sessionTimeoutMs = 2_000,
  duplicateWaitMs?: number,
): Child {
  const settings: MemberSettings = {
    connectString: server.connectString,
    root,
    path: GROUP,
    id,
    data: memberData(id, capacity),
    sessionTimeoutMs,
    ...(duplicateWaitMs === undefined ? {} : { duplicateWaitMs }),
  };
  const child = FixtureProcess.spawn<FromMember, ToMember>(FIXTURE, {
    env: { [MEMBER_SETTINGS_ENV]: JSON.stringify(settings) },
  });
  toClose.push(() => child.kill('SIGKILL'));
  return child;
}

async function startOutcome(child: Child): Promise<FromMember> {
  try {
    return await child.waitFor((m) => m.type === 'started' || m.type === 'startFailed', 30_000);
  } catch (error) {
    throw new Error(`fixture did not start: ${String(error)}\n${child.output}`);
  }
}

async function report(child: Child): Promise<Report> {
  child.send({ type: 'report' });
  return child.waitFor((m): m is Report => m.type === 'report', 5_000);
}

async function childConverged(child: Child, expected: Record<string, MemberData>): Promise<Report> {
  let last: Report | undefined;
  return timing.waitFor(
    async () => {
      const current = (last = await report(child));
      return sameJson(current.members, expected) ? current : undefined;
    },
    { message: () => `child view did not converge: ${JSON.stringify(last)}`, intervalMs: 50 },
  );
}

/** Raw read of a member node: its JSON and owner. */
async function nodeOf(
  client: ZkClient,
  id: string,
): Promise<{ data: unknown; owner: string | null; czxid: bigint; version: number }> {
  const { data, stat } = await client.get(`${GROUP}/${id}`);
  return {
    data: JSON.parse(data.toString('utf8')),
    owner: stat.ephemeralOwner,
    czxid: stat.czxid,
    version: stat.version,
  };
}

/** w1 and w2 in this process, w3 in a child process; every view holds all three. */
async function threeMembers(childSessionTimeoutMs = 2_000) {
  const a = await newClient();
  const b = await newClient();
  const m1 = member(a.client, 'w1', 1);
  const r1 = new Recorder(m1);
  const m2 = member(b.client, 'w2', 2);
  const r2 = new Recorder(m2);
  await m1.start();
  await m2.start();
  const child = spawnMember('w3', 3, childSessionTimeoutMs);
  expect(await startOutcome(child)).toMatchObject({ type: 'started' });
  const all = { w1: memberData('w1', 1), w2: memberData('w2', 2), w3: memberData('w3', 3) };
  await converged([m1, m2], all);
  await childConverged(child, all);
  return { a, b, m1, m2, r1, r2, child, all };
}

describe('GroupMembership', () => {
  test(
    'three members (two clients, one child process) converge; an update is seen as updated',
    traced(async () => {
      const { m1, m2, r1, r2, child, all } = await threeMembers();
      expect(m1.isStale).toBe(false);
      expect(m1.isRegistered).toBe(true);

      await m1.update(memberData('w1', 5));
      const after = { ...all, w1: memberData('w1', 5) };
      await converged([m1, m2], after);
      const childView = await childConverged(child, after);

      // Exact per-member histories: one join, one update, nothing repeated.
      for (const recorder of [r1, r2]) {
        expect(recorder.of('w1')).toEqual(['joined:1', 'updated:1>5']);
        expect(recorder.of('w2')).toEqual(['joined:2']);
        expect(recorder.of('w3')).toEqual(['joined:3']);
      }
      expect(entriesOf(childView.log, 'w1')).toEqual(['joined:1', 'updated:1>5']);
      expect(entriesOf(childView.log, 'w3')).toEqual(['joined:3']);
      // The snapshot is a copy, and the cached data cannot be edited through it.
      const snapshot = m2.members();
      await m1.update(memberData('w1', 6));
      await r2.saw('updated:w1:5>6');
      expect(snapshot.get('w1')?.capacity).toBe(5);
      expect(() => {
        (m2.members().get('w1') as MemberData).capacity = 0;
      }).toThrow(TypeError);
    }),
    TEST_TIMEOUT,
  );

  test(
    'kill -9 of the child member: the others see it leave within the session timeout',
    traced(async () => {
      const childSessionTimeoutMs = 2_000;
      const { m1, m2, r1, r2, child, all } = await threeMembers(childSessionTimeoutMs);
      const killedAt = Date.now();
      expect(await child.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
      const deadline = childSessionTimeoutMs + 1_500;
      await Promise.all([r1.saw('left:w3:3', deadline), r2.saw('left:w3:3', deadline)]);
      expect(Date.now() - killedAt).toBeLessThan(timing.ms(deadline));

      const { w3: _gone, ...rest } = all;
      await converged([m1, m2], rest);
      for (const recorder of [r1, r2]) {
        expect(recorder.of('w3')).toEqual(['joined:3', 'left:3']);
        expect(recorder.of('w1')).toEqual(['joined:1']);
        expect(recorder.of('w2')).toEqual(['joined:2']);
      }
    }),
    TEST_TIMEOUT,
  );

  test(
    'a member restarted right after kill -9 waits for its old node to expire, then registers',
    traced(async () => {
      const sessionTimeoutMs = 2_000;
      const first = spawnMember('w7', 7, sessionTimeoutMs);
      await expect(startOutcome(first)).resolves.toMatchObject({ type: 'started' });
      await first.kill('SIGKILL');
      const restarted = spawnMember('w7', 8, sessionTimeoutMs);
      const restartedAt = Date.now();
      await expect(startOutcome(restarted)).resolves.toMatchObject({ type: 'started' });
      // It could only register once the servers expired the old session.
      expect(Date.now() - restartedAt).toBeGreaterThan(sessionTimeoutMs / 2);
      const a = await newClient();
      expect((await nodeOf(a.client, 'w7')).data).toEqual(memberData('w7', 8));
    }),
    TEST_TIMEOUT,
  );

  test(
    'session expiry: re-created on the new session with the latest data',
    traced(async () => {
      const a = await newClient();
      const b = await newClient();
      const m1 = member(a.client, 'w1', 1);
      const r1 = new Recorder(m1);
      const m2 = member(b.client, 'w2', 2);
      const r2 = new Recorder(m2);
      const registered = new EventQueue<string>();
      m2.on('registered', registered.push);
      await m1.start();
      await m2.start();
      const oldSession = await registered.next();
      expect(oldSession).toBe(b.client.sessionInfo?.sessionId);
      // m1 must know w2 before the update, or it would first see w2 with the new data.
      await converged([m1, m2], { w1: memberData('w1', 1), w2: memberData('w2', 2) });
      await m2.update(memberData('w2', 7));
      await r1.saw('updated:w2:2>7');
      b.states.length = 0;

      await expireSession(server.connectString, b.client.sessionCredentials());
      const newSession = await registered.next(10_000);
      expect(newSession).not.toBe(oldSession);
      expect(newSession).toBe(b.client.sessionInfo?.sessionId);
      // The client saw its session end and a new one begin (perhaps after a brief reconnect).
      expect(b.states.filter((s) => s === 'lost' || s === 'connected')).toEqual([
        'lost',
        'connected',
      ]);
      expect(b.states.slice(-2)).toEqual(['lost', 'connected']);

      const node = await nodeOf(a.client, 'w2');
      expect(node.owner).toBe(newSession);
      expect(node.data).toEqual(memberData('w2', 7));
      const expected = { w1: memberData('w1', 1), w2: memberData('w2', 7) };
      await converged([m1, m2], expected);
      await timing.waitFor(() => !m2.isStale, { message: 'm2 view still stale' });
      // A new incarnation of w2: left then joined, each once; w1 not repeated by the full re-read.
      expect(r1.of('w2')).toEqual(['joined:2', 'updated:2>7', 'left:7', 'joined:7']);
      expect(r2.of('w2')).toEqual(['joined:2', 'updated:2>7', 'left:7', 'joined:7']);
      expect(r2.of('w1')).toEqual(['joined:1']);
      expect(r1.of('w1')).toEqual(['joined:1']);
    }),
    TEST_TIMEOUT,
  );

  test(
    'duplicate id (another client, another process): clear error, first member untouched',
    traced(async () => {
      const a = await newClient();
      const m1 = member(a.client, 'w1', 1);
      const r1 = new Recorder(m1);
      await m1.start();
      const before = await nodeOf(a.client, 'w1');

      const c = await newClient();
      const duplicate = member(c.client, 'w1', 99, 300);
      const startedAt = Date.now();
      const failure: unknown = await duplicate.start().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(DuplicateMemberError);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300); // it waited for the holder to go
      expect((failure as Error).message).toMatch(/'w1' is already registered/);
      expect((failure as DuplicateMemberError).owner).toBe(a.client.sessionInfo?.sessionId);
      await expect(duplicate.start()).rejects.toThrow(/start\(\) called when closed/);

      const child = spawnMember('w1', 98, 2_000, 300);
      const outcome = await startOutcome(child);
      expect(outcome).toMatchObject({ type: 'startFailed', name: 'DuplicateMemberError' });
      expect(outcome.type === 'startFailed' && outcome.message).toMatch(/'w1'/);
      await child.exited;

      // Pacing only: give a wrongful overwrite or delete time to show up.
      await timing.sleep(300);
      expect(await nodeOf(a.client, 'w1')).toEqual(before);
      expect(m1.isRegistered).toBe(true);
      expect(r1.of('w1')).toEqual(['joined:1']);
      expect(Object.fromEntries(m1.members())).toEqual({ w1: memberData('w1', 1) });
    }),
    TEST_TIMEOUT,
  );

  test(
    'close() deletes the node at once, nothing comes back; start() twice throws',
    traced(async () => {
      const a = await newClient();
      // A long session: a `left` from it within a second cannot come from expiry.
      const b = await newClient(10_000);
      const m1 = member(a.client, 'w1', 1);
      const r1 = new Recorder(m1);
      const m2 = member(b.client, 'w2', 2);
      await m1.start();
      await m2.start();
      await converged([m1, m2], { w1: memberData('w1', 1), w2: memberData('w2', 2) });
      await expect(m1.start()).rejects.toThrow(/start\(\) called when started/);

      const closedAt = Date.now();
      await m2.close();
      await r1.saw('left:w2:2', 2_000);
      expect(Date.now() - closedAt).toBeLessThan(timing.ms(2_000));
      expect(await a.client.exists(`${GROUP}/w2`)).toBeNull();
      expect(b.client.isConnected).toBe(true);
      await expect(m2.start()).rejects.toThrow(/start\(\) called when closed/);
      await expect(m2.update(memberData('w2', 3))).rejects.toThrow(/after close/);

      // A new session for b would re-create the node of a live member; not of a closed one.
      b.states.length = 0;
      await expireSession(server.connectString, b.client.sessionCredentials());
      await timing.waitFor(() => b.states.includes('connected'), { message: 'b reconnected' });
      await timing.sleep(300);
      expect(await a.client.exists(`${GROUP}/w2`)).toBeNull();
      expect(r1.of('w2')).toEqual(['joined:2', 'left:2']);
    }),
    TEST_TIMEOUT,
  );

  test(
    'a member node deleted by someone else while the session is fine is re-created',
    traced(async () => {
      const a = await newClient();
      const b = await newClient();
      const m1 = member(a.client, 'w1', 1);
      const r1 = new Recorder(m1);
      const m2 = member(b.client, 'w2', 2);
      const registered = new EventQueue<string>();
      m2.on('registered', registered.push);
      await m1.start();
      await m2.start();
      const session = await registered.next();
      await converged([m1, m2], { w1: memberData('w1', 1), w2: memberData('w2', 2) });
      const before = await nodeOf(a.client, 'w2');

      await a.client.delete(`${GROUP}/w2`);
      expect(await registered.next()).toBe(session);
      const after = await nodeOf(a.client, 'w2');
      expect(after.owner).toBe(session);
      expect(after.czxid).not.toBe(before.czxid);
      await converged([m1, m2], { w1: memberData('w1', 1), w2: memberData('w2', 2) });
      expect(r1.of('w2')).toEqual(['joined:2', 'left:2', 'joined:2']);
      expect(b.states).toEqual(['connected']);
    }),
    TEST_TIMEOUT,
  );

  test(
    'stale node of the previous session (partition): waited out, never overwritten',
    traced(async () => {
      const proxy = new TcpProxy(server.port);
      await proxy.start();
      toClose.push(() => proxy.close());
      const a = await newClient();
      const b = await newClient(2_000, proxy.connectString);
      const m1 = member(a.client, 'w1', 1);
      const r1 = new Recorder(m1);
      const m2 = member(b.client, 'w2', 2);
      const registered = new EventQueue<string>();
      m2.on('registered', registered.push);
      await m1.start();
      await m2.start();
      const oldSession = await registered.next();
      await converged([m1, m2], { w1: memberData('w1', 1), w2: memberData('w2', 2) });
      const credentials = b.client.sessionCredentials();

      // Cut b off; keep its session alive on the server through another connection.
      proxy.partition(); // silence: connections stay up, nothing gets through
      proxy.dropConnections();
      const holder = await holdSession(credentials);
      toClose.push(async () => holder.close());
      await timing.waitFor(() => b.states.includes('lost'), {
        timeoutMs: 10_000,
        message: 'b did not declare its session lost',
      });
      proxy.dropConnections(); // what was held is discarded with the connections
      proxy.heal();
      await timing.waitFor(() => b.states.at(-1) === 'connected' && b.client.isConnected, {
        message: 'b got no new session',
      });
      const newSession = b.client.sessionInfo?.sessionId;
      expect(newSession).not.toBe(oldSession);
      const update = m2.update(memberData('w2', 3));

      // Pacing only: the old node must stay the old session's, and w2 must not re-register.
      await timing.sleep(500);
      const stale = await nodeOf(a.client, 'w2');
      expect(stale.owner).toBe(oldSession);
      expect(stale.data).toEqual(memberData('w2', 2));
      expect(m2.isRegistered).toBe(false);
      expect(registered.size).toBe(0);
      expect(r1.of('w2')).toEqual(['joined:2']);

      holder.close();
      expect(await registered.next(10_000)).toBe(newSession);
      await update;
      const fresh = await nodeOf(a.client, 'w2');
      expect(fresh.owner).toBe(newSession);
      expect(fresh.data).toEqual(memberData('w2', 3));
      await converged([m1, m2], { w1: memberData('w1', 1), w2: memberData('w2', 3) });
      expect(r1.of('w2')).toEqual(['joined:2', 'left:2', 'joined:3']);
    }),
    TEST_TIMEOUT,
  );

  test(
    'server crash and restart within the session timeout: same sessions, views re-read, no duplicates',
    traced(async () => {
      const sessionTimeoutMs = 8_000;
      const a = await newClient(sessionTimeoutMs);
      const b = await newClient(sessionTimeoutMs);
      const m1 = member(a.client, 'w1', 1);
      const r1 = new Recorder(m1);
      const m2 = member(b.client, 'w2', 2);
      const r2 = new Recorder(m2);
      await m1.start();
      await m2.start();
      const child = spawnMember('w3', 3, 3_000);
      expect(await startOutcome(child)).toMatchObject({ type: 'started' });
      await converged([m1, m2], {
        w1: memberData('w1', 1),
        w2: memberData('w2', 2),
        w3: memberData('w3', 3),
      });
      const sessions = [a.client.sessionInfo?.sessionId, b.client.sessionInfo?.sessionId];
      const w2Before = await nodeOf(a.client, 'w2');
      a.states.length = 0;
      b.states.length = 0;

      await server.kill();
      await timing.waitFor(() => m1.isStale && m2.isStale, { message: 'views not stale' });
      // While the server is down: w2 changes its data, w3's process dies.
      const update = m2.update(memberData('w2', 9));
      await child.kill('SIGKILL');
      const killedAt = Date.now();
      await server.restart();
      const restartMs = Date.now() - killedAt;

      await update;
      await timing.waitFor(() => !m1.isStale && !m2.isStale, { message: 'views still stale' });
      expect(a.states).toEqual(['suspended', 'reconnected']);
      expect(b.states).toEqual(['suspended', 'reconnected']);
      expect([a.client.sessionInfo?.sessionId, b.client.sessionInfo?.sessionId]).toEqual(sessions);
      const w2After = await nodeOf(a.client, 'w2');
      expect(w2After.owner).toBe(w2Before.owner);
      expect(w2After.czxid).toBe(w2Before.czxid);

      // w3's session expires one timeout after the restart.
      await Promise.all([r1.saw('left:w3:3', 10_000), r2.saw('left:w3:3', 10_000)]);
      const expected = { w1: memberData('w1', 1), w2: memberData('w2', 9) };
      await converged([m1, m2], expected);
      for (const recorder of [r1, r2]) {
        expect(recorder.of('w1')).toEqual(['joined:1']);
        expect(recorder.of('w2')).toEqual(['joined:2', 'updated:2>9']);
        expect(recorder.of('w3')).toEqual(['joined:3', 'left:3']);
      }
      // The premise: the outage was shorter than the sessions.
      expect(restartMs).toBeLessThan(sessionTimeoutMs);
    }),
    TEST_TIMEOUT,
  );
});

describe('GroupView', () => {
  test(
    'view only: malformed member skipped and reported, group created later, no node of its own',
    traced(async () => {
      const a = await newClient();
      const view = new GroupView<MemberData>(a.client, { path: GROUP });
      toClose.push(() => view.close());
      const recorder = new Recorder(view);
      const errors = new EventQueue<Error>();
      view.on('error', errors.push);
      const changed = new EventQueue<number>();
      view.on('changed', () => changed.push(view.members().size));

      // No group node yet: an empty view, and nothing created by the view.
      await view.start();
      expect(view.members().size).toBe(0);
      expect(view.isStale).toBe(false);
      expect(await a.client.exists(GROUP)).toBeNull();

      const b = await newClient();
      await b.client.mkdirp(GROUP);
      await b.client.create(`${GROUP}/bad`, '{not json', 'ephemeral');
      const m2 = member(b.client, 'w2', 2);
      await m2.start();
      await recorder.saw('joined:w2:2');
      const malformed = await errors.next();
      expect(malformed).toBeInstanceOf(MalformedMemberError);
      expect(malformed.message).toMatch(/bad/);
      expect(Object.fromEntries(view.members())).toEqual({ w2: memberData('w2', 2) });

      await b.client.set(`${GROUP}/bad`, JSON.stringify(memberData('bad', 4)));
      await recorder.saw('joined:bad:4');
      await b.client.set(`${GROUP}/bad`, '[1, 2]');
      await recorder.saw('left:bad:4');
      expect(await errors.next()).toBeInstanceOf(MalformedMemberError);
      await b.client.delete(`${GROUP}/bad`);
      await m2.close();
      await recorder.saw('left:w2:2');
      expect(recorder.log).toEqual(['joined:w2:2', 'joined:bad:4', 'left:bad:4', 'left:w2:2']);
      expect(errors.size).toBe(0);
      expect(changed.drain().at(-1)).toBe(0);
    }),
    TEST_TIMEOUT,
  );

  test('ids, paths and data are validated up front', async () => {
    const { client } = await newClient();
    const make = (path: string, id: string, data: unknown) => () =>
      new GroupMembership<object>(client, { path, id, data: data as object });
    expect(make(GROUP, 'a/b', {})).toThrow(/group member id 'a\/b'.*'\/'/);
    expect(make(GROUP, '', {})).toThrow(/group member id/);
    expect(make(GROUP, '..', {})).toThrow(/group member id '\.\.'/);
    expect(make(GROUP, 'w\u0001', {})).toThrow(/control or reserved/);
    expect(make('members', 'w1', {})).toThrow(/invalid group path 'members'/);
    expect(make('/members/', 'w1', {})).toThrow(/invalid group path/);
    expect(make(GROUP, 'w1', [1])).toThrow(/must be a JSON object/);
    expect(make(GROUP, 'w1', { n: 1n })).toThrow(/not JSON-serialisable/);
    expect(make(GROUP, 'worker-1.eu_west:7', { ok: true })).not.toThrow();
  });
});

/** Attaches to a session with its credentials (a raw client), keeping it alive on the server. */
async function holdSession(credentials: SessionCredentials): Promise<Client> {
  const options = {
    sessionTimeout: 2_000,
    spinDelay: 50,
    retries: 0,
    sessionId: Buffer.from(credentials.sessionId),
    sessionPassword: Buffer.from(credentials.sessionPassword),
  };
  const holder = createClient(server.connectString, options);
  const connected = new Promise<void>((resolve, reject) => {
    holder.once('connected', () => resolve());
    holder.once('expired', () => reject(new Error('the session to hold had already expired')));
  });
  holder.connect();
  await timing.withTimeout(connected, 5_000, 'holder did not attach');
  return holder;
}
