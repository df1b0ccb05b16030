/**
 * ZkClient against a real three-server ensemble: what survives losing one
 * server (the client's own, or the ensemble leader), what happens when a
 * majority is gone, and that no acknowledged write is ever lost across it all.
 *
 * One cluster for the whole file (three JVMs on two cores are slow to start);
 * every test restarts what it stopped. A background writer runs from the first
 * test to the last, and the last test checks everything it was told succeeded.
 */
import { randomUUID } from 'node:crypto';
import {
  ClientClosedError,
  ConnectionLossError,
  NotConnectedError,
  Op,
  SessionExpiredError,
  ZkClient,
  sequenceOf,
  type WatchEvent,
  type ZkClientOptions,
} from '@app/zk';
import { EventQueue, TestingCluster, timing } from '@app/zk/testing';

/** Long enough that a short quorum outage (JVM restart included) fits inside. */
const SESSION_TIMEOUT_MS = 10_000;
/**
 * How long an operation may wait for a connection before ConnectionLossError, for
 * the clients that must fail fast (quorum loss, background writer). The others
 * keep the default (the session timeout) so a failover is waited out.
 */
const OPERATION_TIMEOUT_MS = 1_000;
const READ_ATTEMPTS = 2;
const FAIL_FAST: Partial<ZkClientOptions> = {
  operationTimeoutMs: OPERATION_TIMEOUT_MS,
  retry: { maxAttempts: READ_ATTEMPTS },
};
/**
 * The client enforces the operation timeout from a housekeeping timer that ticks
 * every sessionTimeout / 6 (zk-client.ts, housekeepingIntervalMs), so a timed-out
 * operation fails up to one tick late.
 */
const HOUSEKEEPING_MS = SESSION_TIMEOUT_MS / 6;
const SLACK_MS = 1_000;

type ConnectionEvent =
  | { type: 'connected' | 'reconnected' | 'lost'; sessionId: string; at: number }
  | { type: 'suspended'; at: number };

interface Recorder {
  /** Every connection event since the recorder was attached. */
  readonly log: ConnectionEvent[];
  readonly queue: EventQueue<ConnectionEvent>;
}

let cluster: TestingCluster;
let writer: BackgroundWriter;
const clients: ZkClient[] = [];

beforeAll(async () => {
  cluster = await TestingCluster.start();
  writer = new BackgroundWriter(`/ensemble-writer-${randomUUID()}`);
  await writer.start();
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await restartStoppedServers();
}, 30_000);

afterAll(async () => {
  await writer?.stop();
  await cluster?.close();
}, 30_000);

function clientOptions(root: string, overrides: Partial<ZkClientOptions> = {}): ZkClientOptions {
  return {
    connectString: cluster.connectString,
    root,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    ...overrides,
  };
}

async function newClient(
  root: string,
  overrides: Partial<ZkClientOptions> = {},
): Promise<ZkClient> {
  const client = new ZkClient(clientOptions(root, overrides));
  clients.push(client);
  await client.start();
  return client;
}

function record(client: ZkClient): Recorder {
  const recorder: Recorder = { log: [], queue: new EventQueue<ConnectionEvent>() };
  const add = (event: ConnectionEvent): void => {
    recorder.log.push(event);
    recorder.queue.push(event);
  };
  for (const type of ['connected', 'reconnected', 'lost'] as const) {
    client.on(type, (info) => add({ type, sessionId: info.sessionId, at: Date.now() }));
  }
  client.on('suspended', () => add({ type: 'suspended', at: Date.now() }));
  return recorder;
}

function nextEvent(recorder: Recorder, type: ConnectionEvent['type'], timeoutMs: number) {
  return recorder.queue.nextMatching((event) => event.type === type, timeoutMs, `'${type}'`);
}

async function restartStoppedServers(): Promise<void> {
  const stopped = cluster.servers.flatMap((server, index) => (server.isRunning ? [] : [index]));
  await Promise.all(stopped.map((index) => cluster.restartServer(index)));
  await cluster.waitForQuorum();
}

/** Which member holds the client's session, from the servers' own `cons` lists. */
async function serverIndexOf(client: ZkClient): Promise<number> {
  const sessionId = BigInt(`0x${client.sessionInfo?.sessionId ?? '0'}`);
  return timing.waitFor(
    async () => {
      const lists = await Promise.all(
        cluster.servers.map((server) =>
          server.isRunning ? server.fourLetterWord('cons').catch(() => '') : '',
        ),
      );
      const index = lists.findIndex((text) =>
        [...text.matchAll(/sid=0x([0-9a-f]+)/g)].some(
          (match) => BigInt(`0x${match[1]}`) === sessionId,
        ),
      );
      return index >= 0 ? index : undefined;
    },
    { timeoutMs: 5_000, message: `a server listing session ${sessionId.toString(16)}` },
  );
}

/**
 * A client connected through the full connect string that landed on a follower
 * (the native client shuffles the servers, so a few tries may be needed).
 */
async function clientOnFollower(
  root: string,
): Promise<{ client: ZkClient; server: number; leader: number }> {
  const { leaderIndex: leader } = await cluster.waitForQuorum();
  for (let attempt = 0; attempt < 20; attempt++) {
    const client = await newClient(root);
    const server = await serverIndexOf(client);
    if (server !== leader) return { client, server, leader };
    await client.close();
  }
  throw new Error('no client landed on a follower in 20 tries');
}

/** Rejection of `promise` (or undefined if it resolved) and how long it took. */
async function outcome(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

/**
 * Writes continuously from its own client (connected to all three servers) and
 * remembers every write the client acknowledged: plain sequential creates, and
 * every fifth round a multi of two sequential creates.
 */
class BackgroundWriter {
  readonly acknowledged: string[] = [];
  readonly failures = new Map<string, number>();
  private client: ZkClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(readonly root: string) {}

  get ackCount(): number {
    return this.acknowledged.length;
  }

  async start(): Promise<void> {
    this.client = new ZkClient(clientOptions(this.root, FAIL_FAST));
    await this.client.start();
    await this.client.mkdirp('/seq');
    await this.client.mkdirp('/multi');
    this.running = true;
    this.loop = this.run(this.client);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.close();
  }

  private async run(client: ZkClient): Promise<void> {
    for (let round = 0; this.running; round++) {
      try {
        if (round % 5 === 4) {
          const results = await client.multi([
            Op.create('/multi/m-', `round ${round} a`, 'persistent_sequential'),
            Op.create('/multi/m-', `round ${round} b`, 'persistent_sequential'),
          ]);
          for (const result of results)
            if (result.type === 'create') this.acknowledged.push(result.path);
        } else {
          this.acknowledged.push(
            await client.create('/seq/n-', `round ${round}`, 'persistent_sequential'),
          );
        }
      } catch (error) {
        const name = error instanceof Error ? error.name : String(error);
        this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
        if (error instanceof ClientClosedError) return;
        // Pacing only: a failed write (no quorum) must not turn into a busy loop.
        await timing.sleep(20);
      }
    }
  }
}

/** Every acknowledged write of the background writer is on the ensemble. */
async function expectNothingAcknowledgedLost(): Promise<void> {
  const acknowledged = [...writer.acknowledged];
  const reader = await newClient(writer.root);
  const present = new Set<string>();
  for (const parent of ['/seq', '/multi']) {
    const { children } = await reader.children(parent);
    for (const name of children) present.add(`${parent}/${name}`);
  }
  expect(acknowledged.filter((path) => !present.has(path))).toEqual([]);
  // One serial writer: what it was told succeeded got ever larger sequence numbers.
  const plain = acknowledged.filter((path) => path.startsWith('/seq/')).map(sequenceOf);
  expect(plain).toEqual([...plain].sort((a, b) => a - b));
}

/**
 * Losing one server of three: the client moves to another member on the same
 * session (suspended → reconnected, never lost), writes issued meanwhile land,
 * and the watches it set before fire afterwards.
 */
async function survivesLosingOne(victim: 'client-server' | 'leader'): Promise<void> {
  const root = `/t-${randomUUID()}`;
  const { client, server, leader } = await clientOnFollower(root);
  const stopped = victim === 'leader' ? leader : server;
  const bystander = cluster.servers.findIndex((_, index) => index !== stopped && index !== server);
  // Default operation timeout (the session timeout): its writes wait out an election.
  const other = await newClient(root, { connectString: cluster.connectStringOf([bystander]) });
  const sessionId = client.sessionInfo?.sessionId;
  const connection = record(client);

  await client.create('/data', 'v0');
  await client.mkdirp('/dir');
  const fired = new EventQueue<WatchEvent>();
  await client.get('/data', fired.push);
  await client.exists('/later', fired.push);
  await client.children('/dir', fired.push);
  const acksBefore = writer.ackCount;

  const stoppedAt = Date.now();
  await cluster.stopServer(stopped);
  // The follower the client is on drops it too when the leader goes (it re-elects).
  await nextEvent(connection, 'suspended', 5_000);
  // Changes the client does not make itself: they must reach it through the old watches.
  const changes = (async () => {
    await other.retry(() => other.set('/data', 'v1'));
    await other.retry(() => other.create('/later', 'here'));
    await other.retry(() => other.create('/dir/child'));
  })();
  // Issued while suspended: queued, sent once the client is back.
  const writes = Promise.all([
    client.create('/written-during-failover', 'x'),
    client.multi([Op.create('/multi-during-failover'), Op.set('/data', 'v2')]),
  ]);
  const reconnected = await nextEvent(connection, 'reconnected', 5_000);
  await writes;
  await changes;
  const failoverMs = reconnected.at - stoppedAt;

  expect(reconnected).toMatchObject({ sessionId });
  expect(client.sessionInfo?.sessionId).toBe(sessionId);
  expect(await client.exists('/written-during-failover')).not.toBeNull();
  expect(await client.exists('/multi-during-failover')).not.toBeNull();
  expect((await client.get('/data')).data.toString()).toMatch(/^v[12]$/);
  await client.set('/data', 'v3');
  expect((await client.get('/data')).data.toString()).toBe('v3');

  const watchEvents = [await fired.next(), await fired.next(), await fired.next()];
  expect(watchEvents).toEqual(
    expect.arrayContaining([
      { type: 'dataChanged', path: '/data' },
      { type: 'created', path: '/later' },
      { type: 'childrenChanged', path: '/dir' },
    ]),
  );

  // The background writer made progress through the failover too.
  await timing.waitFor(() => writer.ackCount > acksBefore + 10, {
    message: 'background writer acknowledged writes after the failover',
  });
  await cluster.restartServer(stopped);
  await cluster.waitForQuorum();
  expect(
    connection.log.filter((event) => event.type === 'lost' || event.type === 'connected'),
  ).toEqual([]);
  expect(connection.log.map((event) => event.type)).toEqual(['suspended', 'reconnected']);
  process.stdout.write(
    `stop ${victim} (server ${stopped}, client on ${server}, leader ${leader}): ` +
      `reconnected after ${failoverMs} ms on session ${sessionId}\n`,
  );
}

test('stopping the server the client is connected to: same session, writes and watches go on', async () => {
  await survivesLosingOne('client-server');
  await expectNothingAcknowledgedLost();
}, 30_000);

test('stopping the ensemble leader: same session, writes and watches go on', async () => {
  await survivesLosingOne('leader');
  await expectNothingAcknowledgedLost();
}, 30_000);

test('losing two servers: writes fail promptly with ConnectionLossError, no read from a minority; quorum back: same session', async () => {
  const root = `/t-${randomUUID()}`;
  const client = await newClient(root, FAIL_FAST);
  // Its 2 s session cannot outlive the outage: the long case (lost, then a new session).
  const brief = await newClient(root, { sessionTimeoutMs: 2_000 });
  const survivor = await serverIndexOf(client);
  const victims = [0, 1, 2].filter((index) => index !== survivor);
  const connection = record(client);
  const briefConnection = record(brief);
  const sessionId = client.sessionInfo?.sessionId;
  const briefSessionId = brief.sessionInfo?.sessionId;
  await client.create('/data', 'before');
  await brief.create('/brief-owner', '', 'ephemeral');

  const outageStartedAt = Date.now();
  await Promise.all(victims.map((index) => cluster.stopServer(index)));
  // The survivor cannot serve alone: it drops its clients and refuses new ones.
  await nextEvent(connection, 'suspended', 5_000);
  await timing.waitFor(async () => (await cluster.server(survivor).status()) === undefined, {
    timeoutMs: 5_000,
    message: 'the lone survivor stops serving',
  });

  const [create, multi, read] = await Promise.all([
    outcome(client.create('/written-without-quorum', 'x')),
    outcome(client.multi([Op.create('/multi-without-quorum'), Op.set('/data', 'no quorum')])),
    outcome(client.get('/data')),
  ]);
  const writeBoundMs = OPERATION_TIMEOUT_MS + HOUSEKEEPING_MS + SLACK_MS;
  for (const write of [create, multi]) {
    expect(write.error).toBeInstanceOf(ConnectionLossError);
    expect(write.ms).toBeLessThan(writeBoundMs);
  }
  // Reads are retried (READ_ATTEMPTS), each bounded like a write; none is answered.
  expect(read.error).toBeInstanceOf(ConnectionLossError);
  expect(read.ms).toBeLessThan(READ_ATTEMPTS * (OPERATION_TIMEOUT_MS + HOUSEKEEPING_MS) + SLACK_MS);
  expect(client.state).toBe('suspended');

  // The brief client's session timed out meanwhile (client-side: no server could say so).
  await nextEvent(briefConnection, 'lost', 5_000);
  const acksBefore = writer.ackCount;
  const restartAt = Date.now();
  await cluster.restartServer(victims[0]);
  const reconnected = await nextEvent(connection, 'reconnected', 5_000);
  const outageMs = reconnected.at - outageStartedAt;
  expect(outageMs).toBeLessThan(SESSION_TIMEOUT_MS);
  expect(reconnected).toMatchObject({ sessionId });
  await client.create('/written-after-quorum', 'y');
  expect((await client.get('/data')).data.toString()).toMatch(/^(before|no quorum)$/);

  const replacement = await nextEvent(briefConnection, 'connected', 5_000);
  expect(replacement.type === 'connected' && replacement.sessionId).not.toBe(briefSessionId);
  // The old session's ephemeral goes once the servers expire it (one session timeout).
  await timing.waitFor(async () => (await brief.exists('/brief-owner')) === null, {
    timeoutMs: 5_000,
    message: "the expired brief session's ephemeral node vanishes",
  });
  await timing.waitFor(() => writer.ackCount > acksBefore + 10, {
    message: 'background writer acknowledged writes after quorum came back',
  });

  expect(connection.log.map((event) => event.type)).toEqual(['suspended', 'reconnected']);
  // The brief client may have reconnected to the survivor before it stopped serving.
  expect(briefConnection.log.map((event) => event.type).slice(-2)).toEqual(['lost', 'connected']);
  expect(briefConnection.log.filter((event) => event.type === 'lost')).toHaveLength(1);

  // A write that failed with ConnectionLossError has an unknown outcome; report what happened.
  const lateApplied = (await client.exists('/written-without-quorum')) !== null;
  process.stdout.write(
    `quorum loss (survivor ${survivor}): create failed after ${create.ms} ms, multi after ${multi.ms} ms, ` +
      `read after ${read.ms} ms; reconnected ${reconnected.at - restartAt} ms after the restart began, ` +
      `outage ${outageMs} ms; timed-out create applied later: ${lateApplied}\n`,
  );
  await cluster.restartServer(victims[1]);
  await cluster.waitForQuorum();
  await expectNothingAcknowledgedLost();
}, 45_000);

test('nothing the background writer was told succeeded is missing', async () => {
  await writer.stop();
  await expectNothingAcknowledgedLost();
  expect(writer.ackCount).toBeGreaterThan(100);
  const failures = Object.fromEntries(writer.failures);
  for (const name of Object.keys(failures)) {
    expect([ConnectionLossError.name, NotConnectedError.name, SessionExpiredError.name]).toContain(
      name,
    );
  }
  const multiAcks = writer.acknowledged.filter((path) => path.startsWith('/multi/'));
  expect(multiAcks.length).toBeGreaterThan(0);
  process.stdout.write(
    `background writer: ${writer.ackCount} acknowledged (${multiAcks.length} in multis), failures ${JSON.stringify(failures)}\n`,
  );
});
