/**
 * The registry application (RegistryModule, prepared as main.ts does it) on a
 * real ZooKeeper and a fresh database of the shared PostgreSQL: health,
 * metrics, OpenAPI, the drain end to end, the audit query API and its errors.
 */
import request from 'supertest';
import { TestingServer, timing } from '@app/zk/testing';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import type { ZkClient } from '@app/zk';
import { ZkLayout } from '@app/contracts';
import type { ApiErrorBody } from '@app/contracts/dto/scheduler-api';
import type { AuditPageView } from '@app/contracts/dto/registry-api';
import {
  fillOutbox,
  outboxDepth,
  syntheticEvent,
  writeRawOutboxNode,
} from './support/outbox-fixtures';
import { startRegistryApp, zkSession, type RegistryApp } from './support/registry-app';

let server: TestingServer;
let database: TestDatabase;
let registry: RegistryApp;
let zk: ZkClient;

beforeAll(async () => {
  [server, database] = await Promise.all([
    TestingServer.start(),
    createTestDatabase('zk_registry'),
  ]);
  registry = await startRegistryApp(server, { databaseUrl: database.url });
  zk = await zkSession(server, registry.root);
}, timing.ms(60_000));

afterAll(async () => {
  await zk?.close();
  await registry?.close();
  await database?.drop();
  await server?.close();
});

async function auditPage(query: Record<string, string | number>): Promise<AuditPageView> {
  return (await request(registry.app.getHttpServer()).get('/v1/audit').query(query).expect(200))
    .body as AuditPageView;
}

it('answers /health/ready with ZooKeeper, PostgreSQL and its registration up', async () => {
  const ready = await request(registry.app.getHttpServer()).get('/health/ready').expect(200);
  expect(ready.body).toMatchObject({
    status: 'ok',
    info: { zookeeper: { status: 'up' }, postgresql: { status: 'up' }, registry: { status: 'up' } },
  });
});

it('is elected to drain, and drains the outbox into PostgreSQL in order, then empties it', async () => {
  await timing.waitFor(() => registry.drain.isDrainer, { message: 'elected drainer' });
  const events = await fillOutbox(zk, 120, 5);
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'outbox drained' });
  const stored = await auditPage({ limit: 1000 });
  expect(stored.items.map((e) => e.id)).toEqual(events.map((e) => e.id));
  const seqs = stored.items.map((e) => BigInt(e.seq));
  expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1])).toBe(true);
  expect(stored.items[0]).toEqual({
    seq: expect.stringMatching(/^\d+$/),
    id: events[0].id,
    time: new Date(events[0].time).toISOString(),
    type: 'task.created',
    jobId: null,
    taskId: null,
    workerId: null,
    attempt: null,
    actor: 'test/outbox/1',
    fencingToken: null,
    detail: null,
  });
});

it('moves a node it cannot read to /audit/dead and drains the nodes after it', async () => {
  const bad = await writeRawOutboxNode(zk, '{"events": "not a list"}');
  const after = await fillOutbox(zk, 3, 2);
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'outbox drained' });
  const name = bad.slice(bad.lastIndexOf('/') + 1);
  expect((await zk.get(ZkLayout.deadLetter(name))).data.toString()).toBe(
    '{"events": "not a list"}',
  );
  const page = await auditPage({ limit: 1000 });
  expect(page.items.slice(-6).map((e) => e.id)).toEqual(after.map((e) => e.id));
  const metrics = await request(registry.app.getHttpServer()).get('/metrics').expect(200);
  expect(metrics.text).toMatch(/^zks_registry_outbox_dead_letters_total\{reason="malformed"\} 1$/m);
  expect(metrics.text).toMatch(/^zks_registry_outbox_depth 0$/m);
  expect(metrics.text).toMatch(/^zks_registry_is_drainer 1$/m);
  expect(metrics.text).toMatch(/^zks_registry_drained_events_total\{outcome="new"\} 606$/m);
  expect(metrics.text).toMatch(/^zks_registry_drain_batch_duration_seconds_count \d+$/m);
});

describe('GET /v1/audit', () => {
  it('filters by task, job, worker, type and time, and pages with a keyset cursor', async () => {
    const base = Date.UTC(2031, 5, 1);
    const mine = [
      syntheticEvent('task.created', {
        taskId: 't-1',
        jobId: '00000000-0000-4000-8000-000000000001',
        time: base,
      }),
      syntheticEvent('task.assigned', {
        taskId: 't-1',
        workerId: 'w-1',
        attempt: 1,
        time: base + 10,
      }),
      syntheticEvent('task.started', {
        taskId: 't-1',
        workerId: 'w-1',
        attempt: 1,
        time: base + 20,
      }),
      syntheticEvent('task.succeeded', {
        taskId: 't-1',
        workerId: 'w-1',
        attempt: 1,
        time: base + 30,
        detail: { state: 'succeeded' },
      }),
    ];
    let index = 0;
    await fillOutbox(zk, 4, 1, () => mine[index++]);
    await timing.waitFor(async () => (await auditPage({ taskId: 't-1' })).items.length === 4);
    expect((await auditPage({ taskId: 't-1' })).items.map((e) => e.type)).toEqual([
      'task.created',
      'task.assigned',
      'task.started',
      'task.succeeded',
    ]);
    expect((await auditPage({ workerId: 'w-1', type: 'task.started' })).items).toHaveLength(1);
    expect((await auditPage({ jobId: mine[0].jobId! })).items.map((e) => e.id)).toEqual([
      mine[0].id,
    ]);
    const window = await auditPage({
      taskId: 't-1',
      since: new Date(base + 10).toISOString(),
      until: new Date(base + 30).toISOString(),
    });
    expect(window.items.map((e) => e.type)).toEqual(['task.assigned', 'task.started']);

    const first = await auditPage({ taskId: 't-1', limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toBe(first.items[2].seq);
    const second = await auditPage({ taskId: 't-1', limit: 3, cursor: first.nextCursor! });
    expect(second).toEqual({
      items: [expect.objectContaining({ id: mine[3].id })],
      nextCursor: null,
    });
  });

  it.each([
    ['limit=0', 'limit', /integer between 1 and 1000/],
    ['limit=1001', 'limit', /integer between 1 and 1000/],
    ['type=task.exploded', 'type', /must be one of job.created/],
    ['since=yesterday', 'since', /ISO 8601/],
    ['until=2030-01-01', 'until', /ISO 8601/],
    ['since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z', 'until', /after since/],
    ['cursor=abc', 'cursor', /nextCursor/],
    ['taskId=..%2F', 'taskId', /must be an id/],
    ['colour=blue', 'colour', /not a known field/],
  ])('answers 400 naming the parameter for ?%s', async (query, field, reason) => {
    const res = await request(registry.app.getHttpServer()).get(`/v1/audit?${query}`).expect(400);
    const body = res.body as ApiErrorBody;
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body.errors).toEqual([{ field, reason: expect.stringMatching(reason) }]);
  });
});

describe('the OpenAPI document', () => {
  it('describes the registry routes and their error body', async () => {
    const doc = (await request(registry.app.getHttpServer()).get('/docs-json').expect(200))
      .body as {
      info: { title: string };
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.info.title).toMatch(/registry/);
    for (const path of ['/v1/audit', '/v1/cluster', '/v1/events']) {
      expect(doc.paths[path]?.get?.responses['200']).toBeDefined();
      expect(doc.paths[path].get.responses['503']).toBeDefined();
    }
    expect(doc.paths['/v1/audit'].get.responses['400']).toBeDefined();
  });
});
