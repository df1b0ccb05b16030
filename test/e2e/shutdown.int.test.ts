import { connect, type Socket } from 'node:net';
import { TestingServer, timing } from '@app/zk/testing';
import { LocalCluster } from '../support/local-cluster';

/**
 * SIGTERM is bounded by the service, not by its clients (chaos seed
 * 1337125550: a scheduler under the workload never exited): a keep-alive
 * client that goes on sending is told to close its connection, and a request
 * that never completes (its body never arrives) is cut after a few seconds.
 * Real processes, real ZooKeeper.
 */

jest.setTimeout(120_000);

let server: TestingServer;
let cluster: LocalCluster;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await TestingServer.start();
}, 60_000);

beforeEach(() => {
  cluster = new LocalCluster({ connectString: server.connectString });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await cluster.close();
});

afterAll(async () => {
  await server?.close();
});

/** Opens a request whose body never comes: it stays in flight until the server closes the connection. */
async function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

async function requestThatNeverEnds(port: number): Promise<Socket> {
  const socket = await openSocket(port);
  socket.write(
    'POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Content-Length: 1000\r\n\r\n{"type":',
  );
  return socket;
}

test.each(['scheduler', 'worker', 'registry'] as const)(
  'a %s with a request in flight that never ends exits on SIGTERM within seconds, saying which request it cut',
  async (app) => {
    const service = await cluster.start(app);
    const socket = await requestThatNeverEnds(service.httpPort);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // The request is in (its headers parsed) before the signal: else the close
    // would find the connection idle and close it, with nothing to cut.
    await timing.sleep(1_000);

    const signalledAt = Date.now();
    const exit = await service.signal('SIGTERM');
    const tookMs = Date.now() - signalledAt;

    // A clean exit: Nest re-raises the signal once its hooks ran; the worker exits 0 itself.
    expect(exit!.code === 0 || exit!.signal === 'SIGTERM').toBe(true);
    // Without the bound it waits for the request (Node's requestTimeout: 5 min).
    expect(tookMs).toBeLessThan(20_000);
    await closed;
    expect(service.output).toMatch(/requests still open .* closing their connections/);
    expect(service.output).toContain('POST /v1/tasks');
  },
);

/**
 * A keep-alive client that never lets its connection idle: it pipelines, two
 * requests always outstanding, until the connection ends.
 */
async function busyClient(port: number): Promise<{ answers: () => number; ended: Promise<void> }> {
  const socket = await openSocket(port);
  const request = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  let answers = 0;
  socket.on('data', (chunk: Buffer) => {
    const count = chunk.toString('latin1').split('HTTP/1.1 ').length - 1;
    answers += count;
    for (let i = 0; i < count; i++) socket.write(request);
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(request + request);
  return { answers: () => answers, ended };
}

test('a draining worker tells its keep-alive clients to close from its first shutdown step, not once its tasks are done', async () => {
  const scheduler = await cluster.start('scheduler');
  const worker = await cluster.start('worker', { WORKER_SHUTDOWN_GRACE_MS: '4000' });
  const submitted = await cluster.api<{ id: string }>(scheduler, 'POST', '/v1/tasks', {
    type: 'sleep',
    payload: { ms: 60_000 },
  });
  expect(submitted.status).toBe(202);
  await cluster.waitForTask(submitted.body.id, (task) => task.state === 'running');
  const client = await busyClient(worker.httpPort);
  await timing.waitFor(() => client.answers() >= 20, { message: 'the client is going' });

  const exit = worker.signal('SIGTERM');
  const signalledAt = Date.now();
  await client.ended; // told to close: it closed
  const clientGoneMs = Date.now() - signalledAt;
  await exit;
  const exitedMs = Date.now() - signalledAt;

  // The worker drains its running task for the whole grace; its clients went at once.
  expect(exitedMs).toBeGreaterThanOrEqual(4_000);
  expect(clientGoneMs).toBeLessThan(3_000);
  expect(worker.output).not.toMatch(/requests still open/);
});
