/**
 * Limits from outside: the job count (API_MAX_JOBS) over HTTP and gRPC, and
 * oversize bodies and payloads — each refused with its status in the API's
 * error shape, and nothing written.
 */
import { status } from '@grpc/grpc-js';
import request from 'supertest';
import { TestingServer, timing } from '@app/zk/testing';
import { MAX_PAYLOAD_BYTES, MAX_REQUEST_BYTES } from '@app/contracts/dto/scheduler-api';
import { SchedulerClient, startApiApp, type ApiApp } from './support/api-app';

let server: TestingServer;
let api: ApiApp;
let grpc: SchedulerClient;

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server, { grpc: true, env: { API_MAX_JOBS: '2' } });
  grpc = new SchedulerClient(api.grpcPort);
}, timing.ms(60_000));

afterAll(async () => {
  grpc?.close();
  await api?.close();
  await server?.close();
});

const job = (name: string): object => ({ name, type: 'noop', schedule: '0 * * * *' });
const count = async (parent: string): Promise<number> =>
  (await api.zk.exists(parent))?.numChildren ?? 0;

describe('limits', () => {
  it('refuses a job past API_MAX_JOBS with 409 (gRPC RESOURCE_EXHAUSTED), and frees room on delete', async () => {
    const first = await request(api.http).post('/v1/jobs').send(job('one'));
    expect(first.status).toBe(201);
    expect((await request(api.http).post('/v1/jobs').send(job('two'))).status).toBe(201);

    const refused = await request(api.http).post('/v1/jobs').send(job('three'));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      statusCode: 409,
      message: expect.stringMatching(/API_MAX_JOBS/),
      errors: [{ field: 'jobs', reason: 'at most 2 jobs may exist' }],
    });
    const overGrpc = await grpc.failure('CreateJob', job('four'));
    expect(overGrpc.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await count('/jobs')).toBe(2);

    const id = (first.body as { id: string }).id;
    expect((await request(api.http).delete(`/v1/jobs/${id}`)).status).toBe(204);
    expect((await request(api.http).post('/v1/jobs').send(job('three'))).status).toBe(201);
  });

  it('refuses an oversize payload and an oversize body with 413, writing nothing', async () => {
    const before = [await count('/tasks'), await count('/audit/outbox')];
    const payload = await request(api.http)
      .post('/v1/tasks')
      .send({ type: 'noop', payload: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } });
    expect(payload.status).toBe(413);
    expect(payload.body).toMatchObject({ errors: [{ field: 'payload' }] });
    const body = await request(api.http)
      .post('/v1/tasks')
      .set('Content-Type', 'application/json')
      .send(`{"type":"noop","payload":"${'x'.repeat(MAX_REQUEST_BYTES)}"}`);
    expect(body.status).toBe(413);
    expect(body.body).toMatchObject({ errors: [{ field: 'body' }] });
    expect([await count('/tasks'), await count('/audit/outbox')]).toEqual(before);
  });
});
