/**
 * `/v1/webhooks` over HTTP against a real PostgreSQL: create (secret generated
 * and answered once, stored sealed), list/get/update/delete without secrets,
 * deliveries and the ping, the URL checked by the outbound policy, 4xx that
 * name the field, 503 without WEBHOOK_SECRET_KEY.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { AuditDatabase, SecretBox } from '@app/audit';
import type { ApiErrorBody } from '@app/contracts/dto/scheduler-api';
import { TestingServer, timing } from '@app/zk/testing';
import { status } from '@grpc/grpc-js';
import { SchedulerClient, startApiApp, type ApiApp } from './support/api-app';

const KEY = randomBytes(32);
let server: TestingServer;
let api: ApiApp;

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server, {
    env: { WEBHOOK_SECRET_KEY: KEY.toString('hex'), WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com' },
    grpc: true,
  });
}, timing.ms(60_000));

afterAll(async () => {
  await api?.close();
  await server?.close();
});

const URL_OK = 'https://hooks.example.com/zks';

function fields(body: unknown): Array<[string, string]> {
  return (body as ApiErrorBody).errors.map((e) => [e.field, e.reason]);
}

test('create answers the generated secret once; it is stored sealed and never listed', async () => {
  const created = await request(api.http)
    .post('/v1/webhooks')
    .send({ url: URL_OK, events: ['task.failed', 'worker.left'], filter: { taskType: 'http' } })
    .expect(201);
  const { id, secret } = created.body as { id: string; secret: string };
  expect(secret).toMatch(/^whsec_/);
  expect(created.body).toMatchObject({
    url: URL_OK,
    events: ['task.failed', 'worker.left'],
    filter: { taskType: 'http' },
  });

  const got = await request(api.http).get(`/v1/webhooks/${id}`).expect(200);
  expect(got.body).not.toHaveProperty('secret');
  const list = await request(api.http).get('/v1/webhooks').expect(200);
  expect(JSON.stringify(list.body)).not.toContain(secret);
  expect((list.body as { items: Array<{ id: string }> }).items.map((w) => w.id)).toContain(id);

  const [row] = (await api.app
    .get(AuditDatabase)
    .dataSource.query(`SELECT secret_sealed FROM webhook_subscriptions WHERE id = $1`, [
      id,
    ])) as Array<{ secret_sealed: string }>;
  expect(row.secret_sealed).not.toContain(secret.slice(6));
  expect(new SecretBox(KEY).open(row.secret_sealed, id)).toBe(secret);
});

test('a given secret is kept; update is a merge patch; a new secret is answered once; delete', async () => {
  const secret = 'my-own-secret-0123456789';
  const { body } = await request(api.http)
    .post('/v1/webhooks')
    .send({ url: URL_OK, events: ['*'], secret })
    .expect(201);
  const id = (body as { id: string }).id;
  expect(body).toMatchObject({ secret });

  const patched = await request(api.http)
    .patch(`/v1/webhooks/${id}`)
    .send({ events: ['task.timed_out'], filter: { jobId: randomUUID() } })
    .expect(200);
  expect(patched.body).toMatchObject({ url: URL_OK, events: ['task.timed_out'] });
  expect(patched.body).not.toHaveProperty('secret');
  const cleared = await request(api.http)
    .patch(`/v1/webhooks/${id}`)
    .send({ filter: null, secret: 'another-secret-0123456789' })
    .expect(200);
  expect(cleared.body).not.toHaveProperty('filter');
  expect(cleared.body).toMatchObject({ secret: 'another-secret-0123456789' });

  const ping = await request(api.http).post(`/v1/webhooks/${id}/test`).expect(202);
  const deliveries = await request(api.http).get(`/v1/webhooks/${id}/deliveries`).expect(200);
  expect(deliveries.body).toEqual({
    items: [
      expect.objectContaining({
        eventId: (ping.body as { eventId: string }).eventId,
        type: 'ping',
        state: 'pending',
        attempts: 0,
      }),
    ],
    nextCursor: null,
  });

  await request(api.http).delete(`/v1/webhooks/${id}`).expect(204);
  await request(api.http).get(`/v1/webhooks/${id}`).expect(404);
  await request(api.http).delete(`/v1/webhooks/${id}`).expect(404);
  await request(api.http).post(`/v1/webhooks/${id}/test`).expect(404);
  await request(api.http).get(`/v1/webhooks/${id}/deliveries`).expect(404);
});

test.each([
  [{ events: ['task.failed'] }, 'url', 'is required'],
  [{ url: 'ftp://hooks.example.com/', events: ['*'] }, 'url', 'must use http or https'],
  [{ url: 'https://u:p@hooks.example.com/', events: ['*'] }, 'url', 'must not carry credentials'],
  [
    { url: 'https://other.example.com/', events: ['*'] },
    'url',
    'host other.example.com is not in the allowed hosts (hooks.example.com)',
  ],
  [{ url: URL_OK }, 'events', 'is required'],
  [{ url: URL_OK, events: [] }, 'events', expect.stringContaining('must be a list of 1 to 8')],
  [{ url: URL_OK, events: ['task.done'] }, 'events', expect.stringContaining('among task.failed')],
  [{ url: URL_OK, events: ['*', '*'] }, 'events', expect.stringContaining('distinct')],
  [{ url: URL_OK, events: ['*'], secret: 'short' }, 'secret', expect.stringContaining('16 to 256')],
  [
    { url: URL_OK, events: ['*'], filter: { jobId: 'x' } },
    'filter.jobId',
    'must be a job id (a UUID)',
  ],
  [{ url: URL_OK, events: ['*'], filter: [] }, 'filter', 'must be a JSON object'],
])('400 naming the field: %j', async (body, field, reason) => {
  const res = await request(api.http).post('/v1/webhooks').send(body).expect(400);
  expect(fields(res.body)).toContainEqual([field, reason]);
});

test('ids and query parameters are checked', async () => {
  const bad = await request(api.http).get('/v1/webhooks/not-a-uuid').expect(400);
  expect(fields(bad.body)).toEqual([['id', 'must be a webhook id (a UUID)']]);
  await request(api.http).get(`/v1/webhooks/${randomUUID()}`).expect(404);
  const limit = await request(api.http).get('/v1/webhooks?limit=0').expect(400);
  expect(fields(limit.body)[0][0]).toBe('limit');
  const cursor = await request(api.http)
    .get(`/v1/webhooks/${randomUUID()}/deliveries?cursor=abc`)
    .expect(400);
  expect(fields(cursor.body)[0][0]).toBe('cursor');
});

test('the same over gRPC: create, get, list, update, test, deliveries, delete; errors name the field', async () => {
  const grpc = new SchedulerClient(api.grpcPort);
  try {
    type Hook = { id: string; secret?: string; events: string[]; filter?: object };
    const hook = await grpc.call<Hook>('CreateWebhook', {
      url: URL_OK,
      events: ['task.failed'],
      filter: { taskType: 'http' },
    });
    expect(hook.secret).toMatch(/^whsec_/);
    const got = await grpc.call<Hook>('GetWebhook', { id: hook.id });
    expect(got.secret).toBeUndefined();
    expect(got.filter).toEqual({ taskType: 'http' });
    const listed = await grpc.call<{ items: Hook[] }>('ListWebhooks', { limit: 1000 });
    expect(listed.items.map((w) => w.id)).toContain(hook.id);
    expect(listed.items.every((w) => w.secret === undefined)).toBe(true);
    const updated = await grpc.call<Hook>('UpdateWebhook', {
      id: hook.id,
      events: ['*'],
      clearFilter: true,
    });
    expect(updated.events).toEqual(['*']);
    expect(updated.filter).toBeUndefined();
    const { eventId } = await grpc.call<{ eventId: string }>('TestWebhook', { id: hook.id });
    const deliveries = await grpc.call<{ items: Array<{ eventId: string; state: string }> }>(
      'ListWebhookDeliveries',
      { id: hook.id },
    );
    expect(deliveries.items).toEqual([expect.objectContaining({ eventId, state: 'pending' })]);
    await grpc.call('DeleteWebhook', { id: hook.id });
    expect((await grpc.failure('GetWebhook', { id: hook.id })).code).toBe(status.NOT_FOUND);

    const bad = await grpc.failure('CreateWebhook', { url: 'ftp://x', events: [] });
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.errors.map((e) => e.field).sort()).toEqual(['events', 'url']);
    const badId = await grpc.failure('GetWebhook', { id: 'nope' });
    expect(badId.errors).toEqual([{ field: 'id', reason: 'must be a webhook id (a UUID)' }]);
  } finally {
    grpc.close();
  }
});

test('without WEBHOOK_SECRET_KEY the API answers 503 and names the variable', async () => {
  const off = await startApiApp(server, {});
  try {
    const res = await request(off.http)
      .post('/v1/webhooks')
      .send({ url: URL_OK, events: ['*'] })
      .expect(503);
    expect((res.body as ApiErrorBody).message).toMatch(/WEBHOOK_SECRET_KEY/);
    await request(off.http).get('/v1/webhooks').expect(503);
  } finally {
    await off.close();
  }
});
