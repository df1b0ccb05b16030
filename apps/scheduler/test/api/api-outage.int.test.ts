/**
 * A ZooKeeper outage: while the server is down the API answers 503 (gRPC
 * UNAVAILABLE) with a clear message within a bound, never a 500 or a hang;
 * once it is back, the API serves again without a restart.
 */
import { status } from '@grpc/grpc-js';
import request from 'supertest';
import { TestingServer, timing } from '@app/zk/testing';
import type { ApiErrorBody } from '@app/contracts/dto/scheduler-api';
import { SchedulerClient, startApiApp, type ApiApp } from './support/api-app';

/** ZK_SESSION_TIMEOUT_MS of the app (support/api-app.ts): operations wait this long for a connection. */
const SESSION_TIMEOUT_MS = 2_000;
/**
 * A request gets its 503 about one session timeout after it started (writes
 * fail then; reads, which the client retries, are cut off then).
 */
const ANSWER_BOUND_MS = 2 * SESSION_TIMEOUT_MS;

let server: TestingServer;
let api: ApiApp;
let grpc: SchedulerClient;

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server, { grpc: true });
  grpc = new SchedulerClient(api.grpcPort);
}, timing.ms(60_000));

afterAll(async () => {
  grpc?.close();
  await api?.close();
  await server?.close();
});

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

it(
  'answers 503 while ZooKeeper is down and serves again once it is back',
  async () => {
    const { id } = (await request(api.http).post('/v1/tasks').send({ type: 'noop' }).expect(202))
      .body;
    await server.stop();

    // At once: each waits about a session timeout.
    const [write, read, list, rpc] = await Promise.all([
      timed(() => request(api.http).post('/v1/tasks').send({ type: 'noop' })),
      timed(() => request(api.http).get(`/v1/tasks/${id}`)),
      timed(() => request(api.http).get('/v1/jobs')),
      timed(() => grpc.failure('SubmitTask', { type: 'noop' })),
    ]);
    expect(write.value.status).toBe(503);
    expect(write.value.headers['retry-after']).toBe('1');
    const body = write.value.body as ApiErrorBody;
    expect(body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', errors: [] });
    expect(body.message).toMatch(/^ZooKeeper is unavailable \(.+\); retry later/);
    expect(read.value.status).toBe(503);
    expect(list.value.status).toBe(503);
    expect(rpc.value.code).toBe(status.UNAVAILABLE);
    expect(rpc.value.details).toMatch(/ZooKeeper is unavailable/);
    for (const answer of [write, read, list, rpc]) {
      expect(answer.ms).toBeLessThan(timing.ms(ANSWER_BOUND_MS));
    }

    // Bad input is still answered at once, without ZooKeeper.
    await request(api.http).post('/v1/tasks').send({ type: 7 }).expect(400);

    await server.restart();
    await timing.waitFor(
      async () => (await request(api.http).post('/v1/tasks').send({ type: 'noop' })).status === 202,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: 'the API did not serve again after ZooKeeper came back',
      },
    );
    const task = await request(api.http).get(`/v1/tasks/${id}`).expect(200);
    expect(task.body.state).toBe('pending');
  },
  timing.ms(60_000),
);
