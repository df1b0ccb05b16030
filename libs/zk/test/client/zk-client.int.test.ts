import { randomUUID } from 'node:crypto';
import {
  BadVersionError,
  ClientClosedError,
  ConnectionLossError,
  NoNodeError,
  NodeExistsError,
  NotConnectedError,
  NotEmptyError,
  Op,
  SessionExpiredError,
  ZkClient,
  type WatchEvent,
  type ZkClientOptions,
  type ZkOperationName,
} from '@app/zk';
import {
  EventQueue,
  TcpProxy,
  TestingServer,
  expireSession,
  freePort,
  timing,
} from '@app/zk/testing';

const SESSION_TIMEOUT_MS = 2_000;
/** A ping request on the wire: length, xid, op code. */
const PING_BYTES = 12;
/** How long before the servers can expire a session of that timeout the client gives it up. */
const LOSS_MARGIN_MS = 500;

let server: TestingServer;
const clients: ZkClient[] = [];

beforeAll(async () => {
  server = await TestingServer.start();
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await server?.close();
});

async function connect(options: Partial<ZkClientOptions> = {}): Promise<ZkClient> {
  const client = new ZkClient({
    connectString: server.connectString,
    root: `/client-test-${randomUUID()}`,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    ...options,
  });
  clients.push(client);
  await client.start();
  return client;
}

/** Records every connection event of a client, in order. */
function stateLog(client: ZkClient): EventQueue<string> {
  const queue = new EventQueue<string>();
  for (const event of ['connected', 'suspended', 'reconnected', 'lost', 'closed'] as const) {
    client.on(event, () => queue.push(event));
  }
  return queue;
}

describe('operations', () => {
  test('create, get, set with versions, delete; typed errors', async () => {
    const client = await connect();
    expect(await client.create('/a', 'one')).toBe('/a');
    const { data, stat } = await client.get('/a');
    expect(data.toString()).toBe('one');
    expect(stat.version).toBe(0);
    expect(stat.ephemeralOwner).toBeNull();
    expect((await client.set('/a', 'two', 0)).version).toBe(1);
    await expect(client.set('/a', 'three', 0)).rejects.toBeInstanceOf(BadVersionError);
    await expect(client.create('/a')).rejects.toBeInstanceOf(NodeExistsError);
    await expect(client.get('/missing')).rejects.toBeInstanceOf(NoNodeError);
    await expect(client.get('/missing')).rejects.toMatchObject({ path: '/missing' });
    await client.create('/a/child');
    await expect(client.delete('/a')).rejects.toBeInstanceOf(NotEmptyError);
    await expect(client.delete('/a/child', 5)).rejects.toBeInstanceOf(BadVersionError);
    await client.delete('/a/child', 0);
    await client.delete('/a');
    expect(await client.exists('/a')).toBeNull();
  });

  test('every create mode; sequential names; ephemeral owner is the session', async () => {
    const client = await connect();
    await client.mkdirp('/q/items');
    const first = await client.create('/q/items/i-', 'x', 'persistent_sequential');
    const second = await client.create('/q/items/i-', 'y', 'persistent_sequential');
    expect(first).toMatch(/^\/q\/items\/i-\d{10}$/);
    expect(second > first).toBe(true);
    const ephemeral = await client.create('/q/e-', null, 'ephemeral_sequential');
    const stat = await client.exists(ephemeral);
    expect(stat?.ephemeralOwner).toBe(client.sessionInfo?.sessionId);
    await client.create('/q/eph', 'x', 'ephemeral');
    expect((await client.children('/q')).children.sort()).toEqual(
      ['eph', 'items', ephemeral.slice(3)].sort(),
    );
  });

  test('the root is a chroot: clients with different roots never see each other', async () => {
    const a = await connect();
    const b = await connect();
    await a.create('/only-in-a');
    expect(await b.exists('/only-in-a')).toBeNull();
    const raw = await connect({ root: '/' });
    expect(await raw.exists(`${a.root}/only-in-a`)).not.toBeNull();
    // A chroot in the connect string nests the root under it.
    const chrooted = await connect({
      connectString: `${server.connectString}/outer-${randomUUID()}`,
      root: '/inner',
    });
    await chrooted.create('/x');
    expect(await raw.exists(`${chrooted.root}/x`)).not.toBeNull();
    expect(chrooted.root).toMatch(/^\/outer-[0-9a-f-]+\/inner$/);
  });

  test('multi is atomic, reports the failing op, and honours version 0', async () => {
    const client = await connect();
    await client.create('/fresh', 'v0'); // version 0
    await client.create('/bumped', 'v0');
    await client.set('/bumped', 'v1'); // version 1

    // A check against version 0 of a node at version 1 must fail: the native
    // client's builders would have turned 0 into "any version".
    const failing = client.multi([Op.create('/created-in-failed-multi'), Op.check('/bumped', 0)]);
    await expect(failing).rejects.toBeInstanceOf(BadVersionError);
    await expect(failing).rejects.toMatchObject({ opIndex: 1, path: '/bumped' });
    expect(await client.exists('/created-in-failed-multi')).toBeNull();

    const results = await client.multi([
      Op.check('/fresh', 0),
      Op.set('/fresh', 'v1', 0),
      Op.create('/seq-', 'n', 'persistent_sequential'),
      Op.delete('/bumped', 1),
    ]);
    expect(results[0]).toEqual({ type: 'check' });
    expect(results[1]).toMatchObject({ type: 'set', stat: { version: 1 } });
    expect(results[2]).toMatchObject({
      type: 'create',
      path: expect.stringMatching(/^\/seq-\d{10}$/),
    });
    expect(results[3]).toEqual({ type: 'delete' });
    await expect(client.multi([Op.set('/fresh', 'v2', 0)])).rejects.toBeInstanceOf(BadVersionError);
    await expect(client.multi([Op.delete('/missing')])).rejects.toBeInstanceOf(NoNodeError);
  });

  test('watches fire once with typed events', async () => {
    const client = await connect();
    const events = new EventQueue<WatchEvent>();
    expect(await client.exists('/w', events.push)).toBeNull();
    await client.create('/w', 'a');
    await expect(events.next()).resolves.toEqual({ type: 'created', path: '/w' });
    await client.get('/w', events.push);
    await client.set('/w', 'b');
    await client.set('/w', 'c'); // the watch was consumed by the first change
    await expect(events.next()).resolves.toEqual({ type: 'dataChanged', path: '/w' });
    await client.children('/w', events.push);
    await client.create('/w/kid');
    await expect(events.next()).resolves.toEqual({ type: 'childrenChanged', path: '/w' });
    await client.get('/w/kid', events.push);
    await client.delete('/w/kid');
    await expect(events.next()).resolves.toEqual({ type: 'deleted', path: '/w/kid' });
    // The same function registered twice on a path is one watch, as in the Java client.
    await client.get('/w', events.push);
    await client.get('/w', events.push);
    await client.set('/w', 'd');
    await expect(events.next()).resolves.toEqual({ type: 'dataChanged', path: '/w' });
    await timing.sleep(100);
    expect(events.size).toBe(0);
  });

  test('requestsSent counts what went on the wire, by operation (a multi is one)', async () => {
    const client = await connect();
    const before = new Map(client.requestsSent());
    const delta = (op: ZkOperationName): number =>
      (client.requestsSent().get(op) ?? 0) - (before.get(op) ?? 0);
    await client.create('/counted', 'a');
    await client.get('/counted');
    await client.children('/');
    await client.multi([Op.set('/counted', 'b'), Op.create('/counted/kid'), Op.check('/counted')]);
    await expect(client.get('/missing')).rejects.toBeInstanceOf(NoNodeError);
    // A refused path never leaves the client.
    await expect(client.get('no-slash')).rejects.toMatchObject({ name: 'BadArgumentsError' });
    expect([delta('create'), delta('get'), delta('children'), delta('multi')]).toEqual([
      1, 2, 1, 1,
    ]);
  });

  test('bad arguments are typed errors, not crashes', async () => {
    const client = await connect();
    await expect(client.create('no-slash')).rejects.toMatchObject({ name: 'BadArgumentsError' });
    await expect(client.create('/big', Buffer.alloc(2 * 1024 * 1024))).rejects.toMatchObject({
      name: 'BadArgumentsError',
    });
  });
});

describe('connection states', () => {
  test('a server restart within the session timeout: suspended, then reconnected on the same session', async () => {
    const client = await connect({ sessionTimeoutMs: 8_000 });
    const states = stateLog(client);
    const session = client.sessionInfo?.sessionId;
    await client.create('/eph', 'x', 'ephemeral');
    const watched = new EventQueue<WatchEvent>();
    await client.get('/eph', watched.push);

    await server.kill();
    await expect(states.next()).resolves.toBe('suspended');
    await server.restart();
    await expect(states.next(15_000)).resolves.toBe('reconnected');
    expect(client.sessionInfo?.sessionId).toBe(session);
    expect(await client.exists('/eph')).not.toBeNull();
    await client.set('/eph', 'y'); // the watch set before the outage still fires
    await expect(watched.next()).resolves.toEqual({ type: 'dataChanged', path: '/eph' });
  }, 60_000);

  test('session expiry: lost, then a new session; ephemerals gone; queued work fails', async () => {
    const client = await connect();
    const observer = await connect({ root: client.root });
    const states = stateLog(client);
    const oldSession = client.sessionInfo?.sessionId;
    await client.create('/eph', 'x', 'ephemeral');
    await expireSession(server.connectString, client.sessionCredentials());
    await expect(states.nextMatching((s) => s === 'lost')).resolves.toBe('lost');
    await expect(states.next()).resolves.toBe('connected');
    expect(client.sessionInfo?.sessionId).not.toBe(oldSession);
    expect(await observer.exists('/eph')).toBeNull();
    expect(await client.exists('/eph')).toBeNull();
  });

  test('a partition: suspended, lost a margin before the timeout, a new session after healing', async () => {
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    try {
      const client = await connect({ connectString: proxy.connectString });
      const states = stateLog(client);
      await client.create('/eph', 'x', 'ephemeral');
      const pending = client.create('/never-acknowledged');
      const partitionedAt = Date.now();
      proxy.partition();
      await expect(states.next()).resolves.toBe('suspended');
      const suspendedAfter = Date.now() - partitionedAt;
      await expect(states.next()).resolves.toBe('lost');
      const lostAfter = Date.now() - partitionedAt;
      // The write neither succeeded nor failed silently: its outcome is unknown.
      await expect(pending).rejects.toBeInstanceOf(ConnectionLossError);
      expect(suspendedAfter).toBeLessThan(SESSION_TIMEOUT_MS);
      // Lost a margin before the timeout counted from the last answered request's sending,
      // which is at most about a third of the timeout before the partition (pings).
      expect(lostAfter).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS * 0.3);
      expect(lostAfter).toBeLessThan(SESSION_TIMEOUT_MS);
      proxy.dropConnections();
      proxy.heal();
      await expect(states.next(10_000)).resolves.toBe('connected');
      // `lost` is declared client-side a margin before the servers can expire the session;
      // they do so about a timeout after they last heard it.
      const stale = await client.exists('/eph');
      if (stale) expect(stale.ephemeralOwner).not.toBe(client.sessionInfo?.sessionId);
      await timing.waitFor(async () => (await client.exists('/eph')) === null, {
        timeoutMs: SESSION_TIMEOUT_MS,
        message: 'the servers expire the old session',
      });
    } finally {
      await proxy.close();
    }
  });

  /**
   * A client connected through `proxy` owning the ephemeral `/eph` and watching
   * `count` nodes, and an observer connected directly, under the same root.
   */
  async function watchingThroughProxy(
    proxy: TcpProxy,
    count: number,
  ): Promise<{ client: ZkClient; observer: ZkClient; watched: string[] }> {
    const root = `/client-test-${randomUUID()}`;
    const client = await connect({ connectString: proxy.connectString, root });
    const observer = await connect({ root });
    await client.create('/eph', 'x', 'ephemeral');
    const watched = Array.from({ length: count }, (_, i) => `/w${i}`);
    for (const path of watched) {
      await client.create(path, '0');
      await client.get(path, () => undefined);
    }
    return { client, observer, watched };
  }

  /**
   * Changes each watched node, one every 100 ms: each change sends the watching
   * client one watch event (if anything from the servers reaches it), bytes that
   * answer nothing it sent.
   */
  async function changeEach(observer: ZkClient, watched: readonly string[]): Promise<void> {
    for (const path of watched) {
      await observer.set(path, '1');
      await timing.sleep(100);
    }
  }

  test('a healthy idle connection pings and keeps its session over several timeouts, watch events flowing or not', async () => {
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    try {
      const { client, observer, watched } = await watchingThroughProxy(proxy, 60);
      const states = stateLog(client);
      const session = client.sessionInfo?.sessionId;
      // Idle: only pings go up, about three per timeout; ten of them span over three timeouts.
      const idleFrom = proxy.upstreamBytes;
      await timing.waitFor(() => proxy.upstreamBytes >= idleFrom + 10 * PING_BYTES, {
        timeoutMs: 6 * SESSION_TIMEOUT_MS,
        message: 'ten pings from the idle client',
      });
      // Watch events only, one every 100 ms for three timeouts: the socket is never idle,
      // so the native client would not ping; the client still must.
      const eventsFrom = proxy.upstreamBytes;
      await changeEach(observer, watched);
      expect(proxy.upstreamBytes).toBeGreaterThanOrEqual(eventsFrom + 6 * PING_BYTES);
      expect(states.size).toBe(0);
      expect(client.state).toBe('connected');
      expect(client.sessionInfo?.sessionId).toBe(session);
      expect(await observer.exists('/eph')).not.toBeNull();
    } finally {
      await proxy.close();
    }
  }, 60_000);

  /** When the client declares its session lost and when an observer sees its ephemeral node go. */
  async function lossAndExpiry(
    cut: (proxy: TcpProxy) => void,
  ): Promise<{ margin: number; client: ZkClient }> {
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    try {
      const { client, observer, watched } = await watchingThroughProxy(proxy, 30);
      const lost = new Promise<number>((resolve) =>
        client.once('lost', () => resolve(performance.now())),
      );
      const gone = new Promise<number>((resolve) => {
        void observer.exists('/eph', (event) => {
          if (event.type === 'deleted') resolve(performance.now());
        });
      });
      cut(proxy);
      await changeEach(observer, watched);
      const [lostAt, goneAt] = await timing.withTimeout(
        Promise.all([lost, gone]),
        4 * SESSION_TIMEOUT_MS,
        'the client declares its session lost and the servers expire it',
      );
      return { margin: goneAt - lostAt, client };
    } finally {
      await proxy.close();
    }
  }

  // A worker must stop its handlers before the leader can see it gone. The client declares
  // the loss a margin (500 ms here) before the servers can expire the session; the servers
  // expire later still (on a tick boundary, and they heard the request after it was sent).
  // Half the margin is kept even if this process's timers run late on a loaded machine.
  test.each([
    ['both ways', (proxy: TcpProxy) => proxy.partition()],
    [
      'to ZooKeeper only (watch events still arrive)',
      (proxy: TcpProxy) => proxy.setUpstream('hold'),
    ],
    [
      'from ZooKeeper only (the servers still hear it)',
      (proxy: TcpProxy) => proxy.setDownstream('hold'),
    ],
  ])(
    'cut off %s: lost a margin before the servers expire the session',
    async (_name, cut) => {
      const { margin, client } = await lossAndExpiry(cut);
      expect(client.sessionLossMarginMs).toBe(LOSS_MARGIN_MS);
      expect(margin).toBeGreaterThanOrEqual(LOSS_MARGIN_MS / 2);
    },
    30_000,
  );

  test('operations while no server answers fail after the operation timeout, never hang', async () => {
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    try {
      const client = await connect({
        connectString: proxy.connectString,
        sessionTimeoutMs: 10_000,
        operationTimeoutMs: 500,
      });
      const states = stateLog(client);
      await proxy.close(); // nothing listens any more
      await expect(states.next()).resolves.toBe('suspended');
      const started = Date.now();
      await expect(client.create('/x')).rejects.toBeInstanceOf(ConnectionLossError);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(500);
      expect(waited).toBeLessThan(3_000);
      // A read is not retried into a multiple of the wait: it was never sent.
      const readStarted = Date.now();
      await expect(client.get('/')).rejects.toBeInstanceOf(NotConnectedError);
      expect(Date.now() - readStarted).toBeLessThan(1_500);
    } finally {
      await proxy.close();
    }
  });

  test('reads are retried across a dropped connection; writes report connection loss', async () => {
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    try {
      const client = await connect({ connectString: proxy.connectString, sessionTimeoutMs: 6_000 });
      await client.create('/r', 'value');
      proxy.setDownstream('discard');
      const read = client.get('/r');
      const write = client.set('/r', 'other');
      await timing.sleep(50);
      proxy.dropConnections();
      proxy.setDownstream('forward');
      // The read is retried on the resumed connection and succeeds.
      const { data } = await read;
      expect(['value', 'other']).toContain(data.toString());
      // The write's reply was lost: its outcome is unknown to the caller (here it did land).
      await expect(write).rejects.toBeInstanceOf(ConnectionLossError);
      expect((await client.get('/r')).data.toString()).toBe('other');
    } finally {
      await proxy.close();
    }
  });

  test('close ends the session at once and fails what is pending', async () => {
    const client = await connect();
    const observer = await connect({ root: client.root });
    await client.create('/eph', 'x', 'ephemeral');
    const deleted = new EventQueue<WatchEvent>();
    await observer.get('/eph', deleted.push);
    await client.close();
    await expect(deleted.next(1_000)).resolves.toEqual({ type: 'deleted', path: '/eph' });
    await expect(client.get('/eph')).rejects.toBeInstanceOf(ClientClosedError);
    expect(client.state).toBe('closed');
  });

  test('start against nothing fails with a clear error; start twice throws', async () => {
    const port = await freePort();
    const client = new ZkClient({ connectString: `127.0.0.1:${port}`, connectTimeoutMs: 500 });
    await expect(client.start()).rejects.toThrow(
      /no ZooKeeper session with 127\.0\.0\.1:\d+ within 500 ms/,
    );
    expect(client.state).toBe('closed');
    const connected = await connect();
    await expect(connected.start()).rejects.toThrow(/start\(\) called in state connected/);
  });

  test('work queued while suspended fails with SessionExpiredError when the session is lost', async () => {
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    try {
      const client = await connect({ connectString: proxy.connectString });
      const states = stateLog(client);
      proxy.partition();
      await expect(states.next()).resolves.toBe('suspended');
      proxy.dropConnections(); // re-dials now fail fast: the queued write is never sent
      const queued = client.create('/queued-while-suspended');
      await expect(queued).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(states.next()).resolves.toBe('lost');
    } finally {
      await proxy.close();
    }
  });
});
