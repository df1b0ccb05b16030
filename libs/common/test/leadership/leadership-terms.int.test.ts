/**
 * LeadershipTerms against a real ZooKeeper server reached through a TCP proxy:
 * a term whose start waits on ZooKeeper (a first read, like the scheduler's
 * dispatcher) while the link is cut must not hold the end of the leadership or
 * `close()` (SIGTERM) for as long as ZooKeeper stays away (chaos seed 294775684).
 */
import { LeaderElection, WatchedRead, ZkClient, type StructuredLogger } from '@app/zk';
import { TcpProxy, TestingServer, timing } from '@app/zk/testing';
import { LeadershipTerms, type Term } from '@app/common';

const SESSION_TIMEOUT_MS = 2_000;
const quiet: StructuredLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

let server: TestingServer;
let proxy: TcpProxy;
let client: ZkClient;
let terms: LeadershipTerms<Term> | undefined;

beforeAll(async () => {
  server = await TestingServer.start();
}, 60_000);

beforeEach(async () => {
  proxy = new TcpProxy(server.port);
  await proxy.start();
  client = new ZkClient({
    connectString: proxy.connectString,
    root: `/terms-${Date.now()}`,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
  });
  await client.start();
});

afterEach(async () => {
  proxy.heal();
  await terms?.close();
  terms = undefined;
  await client.close();
  await proxy.close();
});

afterAll(async () => {
  await server?.close();
});

/** A term whose start cuts the link, then waits for a first read (which waits for ZooKeeper). */
class StartsWhileCutOff implements Term {
  readonly read = new WatchedRead(client, async (watcher) => {
    await client.exists('/config', watcher);
  });
  closed = false;
  startEntered = false;

  async start(): Promise<void> {
    this.startEntered = true;
    proxy.partition();
    await this.read.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.read.close();
  }
}

function leadWithCutOffStart(): { begun: StartsWhileCutOff[]; election: LeaderElection } {
  const begun: StartsWhileCutOff[] = [];
  const election = new LeaderElection(client, { path: '/election', id: 'only' });
  terms = new LeadershipTerms<Term>({
    election,
    what: 'the test',
    logger: quiet,
    begin: () => {
      const term = new StartsWhileCutOff();
      begun.push(term);
      return term;
    },
  });
  return { begun, election };
}

it('ends a term still starting when its leadership is revoked (ZooKeeper cut off)', async () => {
  const { begun } = leadWithCutOffStart();
  await terms!.start();
  await timing.waitFor(() => begun[0]?.startEntered, { timeoutMs: 10_000 });
  // The link is silent: the client suspends within 2/3 of the session timeout and
  // the election is revoked; the term must be closed although its start never ended.
  await timing.waitFor(() => begun[0].closed, {
    timeoutMs: 3 * SESSION_TIMEOUT_MS,
    message: 'a revoked term still starting was not closed',
  });
  expect(begun[0].read.isStale).toBe(true); // its start really was still waiting
});

it('close() returns while a term start waits for an unreachable ZooKeeper', async () => {
  const { begun } = leadWithCutOffStart();
  await terms!.start();
  await timing.waitFor(() => begun[0]?.startEntered, { timeoutMs: 10_000 });
  const started = Date.now();
  // Leaving the election deletes the candidate node: that fails once no connection
  // comes back within the operation timeout (the session timeout).
  await timing.withTimeout(terms!.close(), 4 * SESSION_TIMEOUT_MS, 'close() hung behind the start');
  expect(begun[0].closed).toBe(true);
  expect(Date.now() - started).toBeLessThan(4 * SESSION_TIMEOUT_MS);
});
