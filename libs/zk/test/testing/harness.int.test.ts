/**
 * The ZooKeeper test harness against real servers: a standalone server, a
 * 3-server ensemble, and the session killer. Waits are on events
 * (EventQueue) or conditions (timing.waitFor), scaled by ZK_TEST_TIMING.
 */
import { createClient, CreateMode, type Client } from 'node-zookeeper-client';

import {
  EventQueue,
  expireSession,
  findZooKeeperInstallation,
  freePort,
  freePorts,
  parseSrvr,
  sessionCredentialsOf,
  TestingCluster,
  TestingServer,
  TestingServerStartError,
  timing,
  Timing,
  trackedProcessIds,
  WaitTimeoutError,
  ZooKeeperNotInstalledError,
} from '@app/zk/testing';

type ClientEvent = 'connected' | 'disconnected' | 'expired';

interface RawClient {
  client: Client;
  events: EventQueue<ClientEvent>;
}

const openClients = new Set<Client>();

/** A raw node-zookeeper-client, connected; its state changes go to an EventQueue. */
async function connect(connectString: string, sessionTimeout = 10_000): Promise<RawClient> {
  const client = createClient(connectString, { sessionTimeout, spinDelay: 100, retries: 0 });
  const events = new EventQueue<ClientEvent>();
  for (const event of ['connected', 'disconnected', 'expired'] as const) {
    client.on(event, () => events.push(event));
  }
  openClients.add(client);
  client.connect();
  await events.nextMatching((event) => event === 'connected', 10_000, 'connected');
  return { client, events };
}

function closeClient(client: Client): void {
  if (openClients.delete(client)) {
    client.removeAllListeners();
    client.close();
  }
}

function create(
  client: Client,
  path: string,
  data: string,
  mode = CreateMode.PERSISTENT,
): Promise<string> {
  return new Promise((resolve, reject) =>
    client.create(path, Buffer.from(data), mode, (error, created) =>
      error ? reject(error) : resolve(created),
    ),
  );
}

function getData(client: Client, path: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.getData(path, (error, data) => (error ? reject(error) : resolve(data.toString()))),
  );
}

function exists(client: Client, path: string): Promise<boolean> {
  return new Promise((resolve, reject) =>
    client.exists(path, (error, stat) =>
      error ? reject(error) : resolve(stat !== null && stat !== undefined),
    ),
  );
}

afterEach(() => {
  for (const client of [...openClients]) {
    closeClient(client);
  }
});

describe('harness pieces without a server', () => {
  test('Timing scales and rejects a bad ZK_TEST_TIMING', () => {
    expect(new Timing(2.5).ms(100)).toBe(250);
    expect(Timing.fromEnv({}).multiplier).toBe(1);
    expect(() => Timing.fromEnv({ ZK_TEST_TIMING: 'fast' })).toThrow(/ZK_TEST_TIMING/);
    expect(() => Timing.fromEnv({ ZK_TEST_TIMING: '0' })).toThrow(/ZK_TEST_TIMING/);
  });

  test('waitFor returns the first truthy value and fails with the message', async () => {
    let calls = 0;
    await expect(
      timing.waitFor(() => (++calls >= 3 ? calls : undefined), { intervalMs: 1 }),
    ).resolves.toBe(3);
    await expect(
      timing.waitFor(() => false, { timeoutMs: 50, message: 'never true' }),
    ).rejects.toThrow(/never true: timed out/);
  });

  test('EventQueue hands out events in order, skips non-matching ones, times out', async () => {
    const queue = new EventQueue<string>();
    queue.push('a');
    queue.push('b');
    expect(await queue.next()).toBe('a');
    const later = queue.nextMatching((event) => event === 'd');
    queue.push('c');
    queue.push('d');
    expect(await later).toBe('d');
    expect(queue.size).toBe(0);
    await expect(queue.next(30)).rejects.toBeInstanceOf(WaitTimeoutError);
  });

  test('parseSrvr reads the mode and node count; not serving is undefined', () => {
    const status = parseSrvr(
      'Zookeeper version: 3.8.0\nZxid: 0x0\nConnections: 1\nMode: follower\nNode count: 7\n',
    );
    expect(status).toMatchObject({ mode: 'follower', nodeCount: 7, zxid: '0x0', connections: 1 });
    expect(
      parseSrvr('This ZooKeeper instance is not currently serving requests\n'),
    ).toBeUndefined();
  });

  test('a missing installation says what to install', () => {
    expect(() => findZooKeeperInstallation({ ZOOKEEPER_HOME: '/nonexistent/zk' })).toThrow(
      ZooKeeperNotInstalledError,
    );
    expect(() => findZooKeeperInstallation({ ZOOKEEPER_HOME: '/nonexistent/zk' })).toThrow(
      /apt-get install -y zookeeper.*ZOOKEEPER_HOME/s,
    );
  });

  test('freePorts gives distinct loopback ports', async () => {
    const ports = await freePorts(6);
    expect(new Set(ports).size).toBe(6);
    expect(ports.every((port) => port > 0 && port < 65536)).toBe(true);
  });
});

describe('TestingServer', () => {
  let server: TestingServer;

  beforeAll(async () => {
    server = await TestingServer.start();
  }, timing.ms(30_000));

  afterAll(async () => {
    await server?.close();
  }, timing.ms(30_000));

  test('starts on a loopback port as a one-member ensemble and answers srvr', async () => {
    expect(server.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await server.status())?.mode).toBe('leader');
    expect(server.myId).toBe(1);
    expect(await server.fourLetterWord('ruok')).toBe('imok');
    await expect(server.start()).rejects.toThrow(/start\(\) in state running/);
  });

  test(
    'standalone mode on request',
    async () => {
      const standalone = await TestingServer.start({ standalone: true, forceSync: false });
      try {
        expect((await standalone.status())?.mode).toBe('standalone');
        const { client } = await connect(standalone.connectString);
        await create(client, '/standalone', 'yes');
        expect(await getData(client, '/standalone')).toBe('yes');
      } finally {
        await standalone.close();
      }
    },
    timing.ms(30_000),
  );

  test('a raw client creates a node and the node count grows', async () => {
    const { client } = await connect(server.connectString);
    const before = await server.nodeCount();
    await create(client, '/harness-a', 'hello');
    expect(await getData(client, '/harness-a')).toBe('hello');
    expect(await server.nodeCount()).toBe(before + 1);
  });

  test(
    'restart() keeps the port and the data; a connected client reconnects',
    async () => {
      const { client, events } = await connect(server.connectString);
      await create(client, '/harness-persist', 'kept');
      const port = server.port;
      const oldPid = server.pid;

      await server.restart();

      expect(server.port).toBe(port);
      expect(server.pid).not.toBe(oldPid);
      await events.nextMatching((event) => event === 'disconnected', 10_000, 'disconnected');
      await events.nextMatching((event) => event === 'connected', 10_000, 'reconnected');
      const fresh = await connect(server.connectString);
      expect(await getData(fresh.client, '/harness-persist')).toBe('kept');
    },
    timing.ms(30_000),
  );

  test(
    'expireSession makes the victim see expired and removes its ephemeral node',
    async () => {
      const victim = await connect(server.connectString, 10_000);
      await create(victim.client, '/harness-ephemeral', 'mine', CreateMode.EPHEMERAL);
      const observer = await connect(server.connectString);
      const startedAt = Date.now();

      await expireSession(server.connectString, sessionCredentialsOf(victim.client));

      // Well before the 10 s session timeout: the session was ended, not timed out.
      await victim.events.nextMatching((event) => event === 'expired', 5_000, 'expired');
      expect(Date.now() - startedAt).toBeLessThan(timing.ms(5_000));
      expect(await exists(observer.client, '/harness-ephemeral')).toBe(false);
      // The observer's session is untouched.
      expect(await exists(observer.client, '/harness-a')).toBe(true);
    },
    timing.ms(20_000),
  );

  test('expireSession fails clearly when nothing serves', async () => {
    const port = await freePort();
    const credentials = { sessionId: Buffer.alloc(8, 1), sessionPassword: Buffer.alloc(16, 2) };
    await expect(
      expireSession(`127.0.0.1:${port}`, credentials, { timeoutMs: 300 }),
    ).rejects.toThrow(/not expired within/);
  });

  test(
    'kill() makes a connected client see disconnect; restart after a kill keeps fsynced data',
    async () => {
      const { client, events } = await connect(server.connectString);
      await create(client, '/harness-before-kill', 'acked');
      const pid = server.pid;

      await server.kill();

      expect(server.isRunning).toBe(false);
      expect(trackedProcessIds()).not.toContain(pid);
      await events.nextMatching((event) => event === 'disconnected', 5_000, 'disconnected');
      expect(await server.status()).toBeUndefined();

      await server.restart();
      await events.nextMatching((event) => event === 'connected', 10_000, 'reconnected');
      expect(await getData(client, '/harness-before-kill')).toBe('acked');
    },
    timing.ms(30_000),
  );
});

describe('TestingServer start failures', () => {
  test(
    'a JVM that exits during start fails with its log and leaves nothing running',
    async () => {
      const broken = new TestingServer({ extraConfig: ['tickTime=not-a-number'] });
      try {
        const failure = await broken.start().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(TestingServerStartError);
        expect((failure as TestingServerStartError).message).toMatch(/exited during start/);
        expect((failure as TestingServerStartError).logTail).toMatch(
          /tickTime|NumberFormat|ConfigException/,
        );
        expect(broken.isRunning).toBe(false);
      } finally {
        await broken.close();
      }
    },
    timing.ms(30_000),
  );

  test(
    'a start that does not get ready in time fails and kills the JVM',
    async () => {
      const slow = new TestingServer({ startTimeoutMs: 1 });
      try {
        await expect(slow.start()).rejects.toThrow(/not serving after/);
        expect(slow.isRunning).toBe(false);
        expect(slow.pid).toBeUndefined();
      } finally {
        await slow.close();
      }
    },
    timing.ms(30_000),
  );
});

describe('TestingCluster (3 servers)', () => {
  let cluster: TestingCluster;

  beforeAll(async () => {
    cluster = await TestingCluster.start();
  }, timing.ms(60_000));

  afterAll(async () => {
    await cluster?.close();
  }, timing.ms(30_000));

  test('forms a quorum: one leader, two followers', async () => {
    const statuses = await cluster.statuses();
    expect(statuses.map((status) => status?.mode).sort()).toEqual([
      'follower',
      'follower',
      'leader',
    ]);
    expect(await cluster.leaderIndex()).toBe(
      statuses.findIndex((status) => status?.mode === 'leader'),
    );
    expect(cluster.connectString.split(',')).toHaveLength(3);
    expect(cluster.servers.map((server) => server.myId)).toEqual([1, 2, 3]);
  });

  test(
    'writes survive one lost server, stop without a majority, and data is back with the quorum',
    async () => {
      const writer = await connect(cluster.connectString);
      await create(writer.client, '/cluster-a', 'before any kill');

      // Lose the leader: the other two elect a new one and keep accepting writes.
      const firstVictim = await cluster.leaderIndex();
      expect(firstVictim).toBeDefined();
      await cluster.killServer(firstVictim as number);
      const quorum = await cluster.waitForQuorum();
      expect(quorum.serving).toHaveLength(2);
      expect(quorum.leaderIndex).not.toBe(firstVictim);
      const survivors = await connect(cluster.connectStringOf(quorum.serving));
      await create(survivors.client, '/cluster-b', 'with two of three');
      closeClient(survivors.client);

      // Lose a second one: no majority, the last server stops serving, writes fail.
      const secondVictim = quorum.serving[0];
      const lastOne = quorum.serving[1];
      await cluster.killServer(secondVictim);
      await timing.waitFor(async () => (await cluster.server(lastOne).status()) === undefined, {
        message: 'the last server should stop serving without a quorum',
      });
      const blocked = createClient(cluster.connectStringOf([lastOne]), {
        sessionTimeout: 10_000,
        spinDelay: 100,
      });
      openClients.add(blocked);
      blocked.connect();
      const attempt = create(blocked, '/cluster-c', 'no quorum');
      await expect(
        timing.withTimeout(attempt, 1_500, 'write without quorum'),
      ).rejects.toBeDefined();
      closeClient(blocked);
      attempt.catch(() => undefined);

      // Bring both back: the quorum re-forms and every acknowledged write is there.
      await Promise.all([
        cluster.restartServer(firstVictim as number),
        cluster.restartServer(secondVictim),
      ]);
      await cluster.waitForQuorum();
      const reader = await connect(cluster.connectString);
      expect(await getData(reader.client, '/cluster-a')).toBe('before any kill');
      expect(await getData(reader.client, '/cluster-b')).toBe('with two of three');
      for (const index of [0, 1, 2]) {
        const pinned = await connect(cluster.connectStringOf([index]));
        expect(await exists(pinned.client, '/cluster-b')).toBe(true);
        closeClient(pinned.client);
      }
    },
    timing.ms(60_000),
  );

  test(
    'expireSession ends a session held through another member',
    async () => {
      const victim = await connect(cluster.connectStringOf([0]), 10_000);
      await create(victim.client, '/cluster-ephemeral', 'mine', CreateMode.EPHEMERAL);
      const observer = await connect(cluster.connectStringOf([1]));

      await expireSession(cluster.connectString, sessionCredentialsOf(victim.client));

      await victim.events.nextMatching((event) => event === 'expired', 5_000, 'expired');
      expect(await exists(observer.client, '/cluster-ephemeral')).toBe(false);
    },
    timing.ms(20_000),
  );

  test(
    'stopServer / restartServer of a follower keeps the ensemble serving',
    async () => {
      const leader = await cluster.leaderIndex();
      const follower = [0, 1, 2].find((index) => index !== leader) as number;
      await cluster.stopServer(follower);
      expect(cluster.server(follower).isRunning).toBe(false);
      expect((await cluster.waitForQuorum()).serving).toHaveLength(2);
      await cluster.restartServer(follower);
      expect((await cluster.waitForQuorum()).serving).toHaveLength(3);
    },
    timing.ms(30_000),
  );
});

test('no harness JVM is left running once everything is closed', () => {
  expect(trackedProcessIds()).toEqual([]);
});
