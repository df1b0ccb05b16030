/**
 * Digest ACLs: with `digest` set, every node the client creates (create,
 * mkdirp, multi, sequential, the root itself) is readable and writable only by
 * sessions authenticated as the same user. Tried from outside with raw
 * node-zookeeper-client sessions — none, and a wrong password — that must be
 * refused reading, writing, creating (forging an assignment) and deleting;
 * and the client authenticates again on the new session after an expiry.
 */
import { randomUUID } from 'node:crypto';
import { createClient, CreateMode, Exception, type Client } from 'node-zookeeper-client';
import { Op, ZkClient } from '@app/zk';
import { EventQueue, TestingServer, expireSession, timing } from '@app/zk/testing';

const DIGEST = 'zk-scheduler:s3cret-password';

let server: TestingServer;
const clients: ZkClient[] = [];
const raws: Client[] = [];

beforeAll(async () => {
  server = await TestingServer.start();
}, timing.ms(60_000));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const raw of raws.splice(0)) raw.close();
});

afterAll(async () => {
  await server?.close();
});

async function connect(root: string, digest?: string): Promise<ZkClient> {
  const client = new ZkClient({
    connectString: server.connectString,
    root,
    sessionTimeoutMs: 2_000,
    digest,
  });
  clients.push(client);
  await client.start();
  return client;
}

/** Another ZooKeeper client, as an intruder would use it: no auth, or `auth` as digest. */
async function intruder(auth?: string): Promise<Client> {
  const raw = createClient(server.connectString, { sessionTimeout: 4_000, retries: 0 });
  raws.push(raw);
  if (auth !== undefined) raw.addAuthInfo('digest', Buffer.from(auth));
  const connected = new EventQueue<string>();
  raw.once('connected', () => connected.push('connected'));
  raw.connect();
  await connected.next(timing.ms(10_000));
  return raw;
}

/** The error code of a raw call, or 0 when it succeeded. */
function codeOf(run: (done: (error: Error | Exception | null) => void) => void): Promise<number> {
  return new Promise((resolve) =>
    run((error) => resolve(error === null ? 0 : (error as Exception).getCode())),
  );
}

describe('digest ACLs', () => {
  test('every created node is closed to unauthenticated and wrongly authenticated sessions', async () => {
    const root = `/acl-${randomUUID()}`;
    const client = await connect(root, DIGEST);
    await client.create('/jobs');
    await client.create('/jobs/j1', '{"payload":"secret"}');
    await client.mkdirp('/assign/worker-1');
    await client.multi([
      Op.create('/tasks', null),
      Op.create('/tasks/t1', '{"state":"pending"}'),
      Op.create('/audit-e-', '{}', 'persistent_sequential'),
    ]);
    const nodes = [root, `${root}/jobs/j1`, `${root}/assign/worker-1`, `${root}/tasks/t1`];

    for (const raw of [await intruder(), await intruder('zk-scheduler:wrong-password')]) {
      for (const node of nodes) {
        expect(await codeOf((done) => raw.getData(node, done))).toBe(Exception.NO_AUTH);
        expect(await codeOf((done) => raw.setData(node, Buffer.from('forged'), -1, done))).toBe(
          Exception.NO_AUTH,
        );
      }
      expect(await codeOf((done) => raw.getChildren(`${root}/jobs`, done))).toBe(Exception.NO_AUTH);
      // Forging an assignment: creating in a worker's inbox.
      expect(
        await codeOf((done) =>
          raw.create(
            `${root}/assign/worker-1/forged`,
            Buffer.from('{}'),
            CreateMode.PERSISTENT,
            done,
          ),
        ),
      ).toBe(Exception.NO_AUTH);
      expect(await codeOf((done) => raw.remove(`${root}/tasks/t1`, -1, done))).toBe(
        Exception.NO_AUTH,
      );
    }

    // Nothing changed, as the owner sees it.
    expect((await client.get('/jobs/j1')).data.toString()).toBe('{"payload":"secret"}');
    expect((await client.children('/assign/worker-1')).children).toEqual([]);
    expect(await client.exists('/tasks/t1')).not.toBeNull();

    // Another session with the same credentials (another service) has full access.
    const peer = await connect(root, DIGEST);
    expect((await peer.get('/tasks/t1')).data.toString()).toBe('{"state":"pending"}');
    await peer.create('/assign/worker-1/t1', '{}');
  });

  test('authenticates again on the new session after an expiry', async () => {
    const root = `/acl-${randomUUID()}`;
    const client = await connect(root, DIGEST);
    await client.create('/before', 'x');
    const states = new EventQueue<string>();
    client.on('lost', () => states.push('lost'));
    client.on('connected', () => states.push('connected'));
    await expireSession(server.connectString, client.sessionCredentials());
    await expect(states.nextMatching((s) => s === 'connected')).resolves.toBe('connected');
    // The new session can read what the old one made, and makes closed nodes too.
    expect((await client.get('/before')).data.toString()).toBe('x');
    await client.create('/after', 'y');
    const raw = await intruder();
    expect(await codeOf((done) => raw.getData(`${root}/after`, done))).toBe(Exception.NO_AUTH);
  });

  test('without digest, nodes stay open (the default)', async () => {
    const root = `/open-${randomUUID()}`;
    const client = await connect(root);
    await client.create('/n', 'open');
    const raw = await intruder();
    expect(await codeOf((done) => raw.getData(`${root}/n`, done))).toBe(0);
  });
});
