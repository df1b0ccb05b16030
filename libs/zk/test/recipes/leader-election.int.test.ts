import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  FencedError,
  LeaderElection,
  NotLeaderError,
  Op,
  ZkClient,
  fencedMulti,
  sortBySequence,
  type FencingToken,
} from '@app/zk';
import {
  EventQueue,
  FixtureProcess,
  TcpProxy,
  TestingServer,
  expireSession,
  timing,
} from '@app/zk/testing';
import type { CandidateMessage } from './fixtures/leader-candidate';

const FIXTURE = join(__dirname, 'fixtures', 'leader-candidate.ts');
const SESSION_TIMEOUT_MS = 2_000;

let server: TestingServer;
const clients: ZkClient[] = [];
const elections: LeaderElection[] = [];
const fixtures: FixtureProcess<CandidateMessage, { kind: 'close' }>[] = [];
let scratch: string;

beforeAll(async () => {
  server = await TestingServer.start();
  scratch = mkdtempSync(join(tmpdir(), 'election-test-'));
}, 60_000);

afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.kill('SIGKILL')));
  await Promise.all(elections.splice(0).map((e) => e.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function newClient(root: string, connectString = server.connectString): Promise<ZkClient> {
  const client = new ZkClient({ connectString, root, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  clients.push(client);
  await client.start();
  return client;
}

function newElection(client: ZkClient, id: string): LeaderElection {
  const election = new LeaderElection(client, { path: '/election', id });
  elections.push(election);
  return election;
}

function freshRoot(): string {
  return `/t-${randomUUID()}`;
}

/** A tiny seeded PRNG (mulberry32) so a failing churn can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface LogLine {
  t: number;
  id: string;
  event: string;
  epoch?: string;
  reason?: string;
}

function readLog(file: string): LogLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine)
    .sort((a, b) => a.t - b.t);
}

/** Walks the shared log in time order; returns every moment two candidates believed they led. */
function overlappingLeaders(log: readonly LogLine[]): string[] {
  const leaders = new Set<string>();
  const violations: string[] = [];
  for (const line of log) {
    if (line.event === 'elected') {
      if (leaders.size > 0)
        violations.push(`${line.id} elected at ${line.t} while ${[...leaders].join(',')} led`);
      leaders.add(line.id);
    } else if (['revoked', 'killed', 'closed'].includes(line.event)) {
      leaders.delete(line.id);
    }
  }
  return violations;
}

function spawnCandidate(
  root: string,
  id: string,
  logFile: string,
  extraEnv: NodeJS.ProcessEnv = {},
) {
  const fixture = FixtureProcess.spawn<CandidateMessage, { kind: 'close' }>(FIXTURE, {
    env: {
      ZK_CONNECT: server.connectString,
      ZK_ROOT: root,
      SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      CANDIDATE_ID: id,
      ELECTION_LOG: logFile,
      ...extraEnv,
    },
  });
  fixtures.push(fixture);
  return fixture;
}

async function epochsOfFencedWrites(client: ZkClient): Promise<string[]> {
  const { children } = await client.children('/writes');
  const epochs: string[] = [];
  for (const name of sortBySequence(children)) {
    const { data } = await client.get(`/writes/${name}`);
    epochs.push((JSON.parse(data.toString()) as { epoch: string }).epoch);
  }
  return epochs;
}

/** Accepted writes must never go back to an older epoch: a deposed leader wrote nothing. */
function epochRegressions(epochs: readonly string[]): string[] {
  const problems: string[] = [];
  for (let i = 1; i < epochs.length; i++) {
    if (BigInt(epochs[i]) < BigInt(epochs[i - 1]))
      problems.push(`write ${i}: epoch ${epochs[i]} after ${epochs[i - 1]}`);
  }
  return problems;
}

test('lifecycle: one leader, start twice throws, a clean close hands over at once', async () => {
  const root = freshRoot();
  const a = newElection(await newClient(root), 'a');
  const b = newElection(await newClient(root), 'b');
  const elected = new EventQueue<string>();
  a.on('elected', () => elected.push('a'));
  b.on('elected', () => elected.push('b'));
  await a.start();
  await expect(elected.next()).resolves.toBe('a');
  await b.start();
  await expect(a.start()).rejects.toThrow(/start\(\) called/);
  expect(a.isLeader).toBe(true);
  expect(b.isLeader).toBe(false);
  expect((await b.participants()).map((p) => [p.id, p.isLeader])).toEqual([
    ['a', true],
    ['b', false],
  ]);
  const before = Date.now();
  await a.close();
  await expect(elected.next()).resolves.toBe('b');
  expect(Date.now() - before).toBeLessThan(SESSION_TIMEOUT_MS); // no session timeout waited for
  await expect(a.fencedMulti([Op.create('/x')])).rejects.toBeInstanceOf(NotLeaderError);
});

test('each candidate watches only its predecessor (no herd)', async () => {
  const root = freshRoot();
  const candidates: LeaderElection[] = [];
  for (const id of ['a', 'b', 'c', 'd', 'e']) {
    const election = newElection(await newClient(root), id);
    await election.start();
    candidates.push(election);
  }
  const paths = candidates.map((c) => `${root}${c.candidate}`);
  const watchedPaths = async (): Promise<Map<string, number>> => {
    // `wchp`: every watched path, followed by the sessions watching it.
    const text = await server.fourLetterWord('wchp');
    const counts = new Map<string, number>();
    let current = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('/')) current = line.trim();
      else if (line.trim().startsWith('0x')) counts.set(current, (counts.get(current) ?? 0) + 1);
    }
    return counts;
  };
  const expected = new Map(paths.slice(0, 4).map((p) => [p, 1]));
  await timing.waitFor(
    async () => {
      const watched = await watchedPaths();
      return [...expected].every(([p, n]) => watched.get(p) === n) && !watched.has(paths[4]);
    },
    { message: 'each of the first four candidates should be watched by exactly one session' },
  );
  const watched = await watchedPaths();
  expect(watched.has(`${root}/election`)).toBe(false); // nobody watches the children list
});

test('five candidate processes under random close and kill -9: never two leaders, fenced writes in epoch order', async () => {
  const root = freshRoot();
  const logFile = join(scratch, `churn-${randomUUID()}.log`);
  const seed = Number(process.env.CHURN_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  process.stdout.write(`leader churn seed ${seed} (CHURN_SEED=${seed} replays it)\n`);
  const observer = await newClient(root);
  await observer.mkdirp('/writes');
  const live = new Map<string, ReturnType<typeof spawnCandidate>>();
  let next = 0;
  const spawnOne = (): void => {
    const id = `p${next++}`;
    live.set(id, spawnCandidate(root, id, logFile, { WRITE_EVERY_MS: '20' }));
  };
  for (let i = 0; i < 5; i++) spawnOne();
  await Promise.all([...live.values()].map((f) => f.waitFor((m) => m.kind === 'started', 20_000)));

  const currentLeader = async (): Promise<string> =>
    timing.waitFor(
      async () => {
        const participants = await newElectionView(observer).participants();
        const leader = participants[0];
        return leader && live.has(leader.id) ? leader.id : undefined;
      },
      { timeoutMs: 3 * SESSION_TIMEOUT_MS, message: 'a live leader' },
    );

  const rounds = 10;
  let leaderKills = 0;
  for (let round = 0; round < rounds; round++) {
    const leader = await currentLeader();
    // Wait until the leader knows it leads, so each round really tests a handover.
    await timing.waitFor(
      () => readLog(logFile).some((l) => l.id === leader && l.event === 'elected'),
      {
        message: `${leader} hears it was elected`,
      },
    );
    const ids = [...live.keys()];
    const victim = random() < 0.6 ? leader : ids[Math.floor(random() * ids.length)];
    const fixture = live.get(victim)!;
    live.delete(victim);
    if (random() < 0.5) {
      await fixture.kill('SIGKILL');
      appendFileSync(
        logFile,
        `${JSON.stringify({ t: performance.timeOrigin + performance.now(), id: victim, event: 'killed' })}\n`,
      );
      if (victim === leader) leaderKills++;
    } else {
      fixture.send({ kind: 'close' });
      await timing.withTimeout(fixture.exited, 10_000, `${victim} closes`);
    }
    spawnOne();
  }
  await currentLeader();
  const log = readLog(logFile);
  expect(overlappingLeaders(log)).toEqual([]);
  expect(log.filter((l) => l.event === 'elected').length).toBeGreaterThanOrEqual(rounds / 2);
  const epochs = await epochsOfFencedWrites(observer);
  expect(epochs.length).toBeGreaterThan(0);
  expect(epochRegressions(epochs)).toEqual([]);
  process.stdout.write(
    `churn: ${rounds} rounds, ${leaderKills} leader kill -9, ${epochs.length} fenced writes\n`,
  );
}, 120_000);

function newElectionView(client: ZkClient): LeaderElection {
  // An unstarted election is enough to list participants.
  return new LeaderElection(client, { path: '/election', id: 'observer' });
}

test('session expiry of the leader: it hears revoked before another is elected; its fenced writes are refused', async () => {
  const root = freshRoot();
  const clientA = await newClient(root);
  const a = newElection(clientA, 'a');
  const b = newElection(await newClient(root), 'b');
  const order: string[] = [];
  a.on('elected', () => order.push('a elected'));
  a.on('revoked', (reason) => order.push(`a revoked (${reason})`));
  b.on('elected', () => order.push('b elected'));
  await a.start();
  await b.start();
  await timing.waitFor(() => a.isLeader, { message: 'a leads' });
  const staleToken = a.token as FencingToken;

  const lost = clientA.next('lost');
  await expireSession(server.connectString, clientA.sessionCredentials());
  await lost;
  await timing.waitFor(() => b.isLeader, { message: 'b takes over' });

  expect(order[0]).toBe('a elected');
  const revokedAt = order.findIndex((e) => e.startsWith('a revoked'));
  expect(revokedAt).toBeGreaterThan(0);
  expect(revokedAt).toBeLessThan(order.indexOf('b elected'));

  // The old leader, now on a new session, tries to write with its old token: ZooKeeper refuses.
  await timing.waitFor(() => clientA.isConnected, { message: 'a has a new session' });
  const write = fencedMulti(clientA, staleToken, [Op.create('/written-by-deposed-leader', 'x')]);
  await expect(write).rejects.toBeInstanceOf(FencedError);
  await expect(write).rejects.toThrow(/has ended: write refused by ZooKeeper/);
  expect(await clientA.exists('/written-by-deposed-leader')).toBeNull();
  // And it stands again as a follower on its new session.
  await timing.waitFor(
    async () => (await b.participants()).some((p) => p.id === 'a' && !p.isLeader),
    {
      message: 'a re-joins as a candidate',
    },
  );
});

test('partitioned leader drops leadership before the servers can elect another', async () => {
  const root = freshRoot();
  const proxy = new TcpProxy(server.port);
  await proxy.start();
  try {
    const a = newElection(await newClient(root, proxy.connectString), 'a');
    const b = newElection(await newClient(root), 'b');
    const order: Array<[string, number]> = [];
    a.on('revoked', (reason) => order.push([`a revoked (${reason})`, Date.now()]));
    b.on('elected', () => order.push(['b elected', Date.now()]));
    await a.start();
    await timing.waitFor(() => a.isLeader, { message: 'a leads' });
    await b.start();
    const partitionedAt = Date.now();
    proxy.partition();
    await timing.waitFor(() => b.isLeader, {
      timeoutMs: 4 * SESSION_TIMEOUT_MS,
      message: 'b takes over',
    });
    expect(order.map(([e]) => e)).toEqual(['a revoked (suspended)', 'b elected']);
    const [[, revokedAt], [, electedAt]] = order;
    expect(revokedAt - partitionedAt).toBeLessThan(SESSION_TIMEOUT_MS);
    expect(electedAt).toBeGreaterThan(revokedAt);
    expect(a.isLeader).toBe(false);
  } finally {
    await proxy.close();
  }
});

test('a leader paused past its session timeout (SIGSTOP) cannot write after resuming', async () => {
  const root = freshRoot();
  const logFile = join(scratch, `pause-${randomUUID()}.log`);
  const observer = await newClient(root);
  await observer.mkdirp('/writes');
  const stale = spawnCandidate(root, 'stale', logFile, { WRITE_EVERY_MS: '5' });
  await stale.waitFor((m) => m.kind === 'elected', 20_000);
  const successor = spawnCandidate(root, 'successor', logFile, { WRITE_EVERY_MS: '5' });
  await successor.waitFor((m) => m.kind === 'started', 20_000);
  await timing.waitFor(async () => (await epochsOfFencedWrites(observer)).length > 5, {
    message: 'stale leader writes',
  });

  await stale.kill('SIGSTOP');
  await successor.waitFor((m) => m.kind === 'elected', 4 * SESSION_TIMEOUT_MS);
  const writesBeforeResume = (await epochsOfFencedWrites(observer)).length;
  await stale.kill('SIGCONT');
  const revoked = await stale.waitFor((m) => m.kind === 'revoked', 4 * SESSION_TIMEOUT_MS);
  expect(revoked).toEqual({ kind: 'revoked', reason: expect.stringMatching(/suspended|lost/) });
  await timing.waitFor(
    async () => (await epochsOfFencedWrites(observer)).length > writesBeforeResume + 5,
    {
      message: 'successor keeps writing',
    },
  );

  const epochs = await epochsOfFencedWrites(observer);
  expect(new Set(epochs).size).toBe(2);
  expect(epochRegressions(epochs)).toEqual([]);
  // The paused leader believed it led all along: that overlap is what fencing is for.
  // Its writes must not have landed once the successor started writing (checked above).
}, 60_000);

test('connection loss during the sequential create leaves no ghost candidate', async () => {
  const root = freshRoot();
  const proxy = new TcpProxy(server.port);
  await proxy.start();
  try {
    const observer = await newClient(root);
    await observer.mkdirp('/election');
    const client = await newClient(root, proxy.connectString);
    const election = newElection(client, 'a');
    // Replies stop coming back: the create reaches the server, its answer never arrives.
    proxy.setDownstream('discard');
    const started = election.start();
    await timing.waitFor(async () => (await observer.children('/election')).children.length === 1, {
      message: 'the candidate node exists on the server',
    });
    proxy.dropConnections();
    proxy.setDownstream('forward');
    await started;
    await timing.waitFor(() => election.isLeader, { message: 'the candidate leads' });
    const { children } = await observer.children('/election');
    expect(children).toHaveLength(1);
    expect(`/election/${children[0]}`).toBe(election.candidate);
    // Still exactly one after things settle (no late duplicate create).
    await timing.sleep(300);
    expect((await observer.children('/election')).children).toHaveLength(1);
  } finally {
    await proxy.close();
  }
});
