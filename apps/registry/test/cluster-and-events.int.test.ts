/**
 * The registry's live views on a real ZooKeeper and PostgreSQL: `GET
 * /v1/cluster` follows members, elections, `/leader` and assignments as they
 * change; `GET /v1/events` streams stored events in order and resumes after
 * `Last-Event-ID`; the same over gRPC (GetCluster, QueryAudit, StreamEvents).
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import request from 'supertest';
import { GroupMembership, LeaderElection, Op, type ZkClient } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { ZkLayout, type LeaderInfo, type MemberInfo, type WorkerInfo } from '@app/contracts';
import type { AuditEventView, ClusterView } from '@app/contracts/dto/registry-api';
import type {
  AuditEventMessage,
  ClusterMessage,
  QueryAuditResponse,
} from '@app/contracts/proto/registry/v1/registry-messages';
import { encodeJson } from '@app/store';
import { fillOutbox, outboxDepth } from './support/outbox-fixtures';
import {
  RegistryClient,
  startRegistryApp,
  zkSession,
  type RegistryApp,
} from './support/registry-app';
import { SseReader } from './support/sse-reader';

let server: TestingServer;
let database: TestDatabase;
let registry: RegistryApp;
let zk: ZkClient;
let grpc: RegistryClient;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [server, database] = await Promise.all([TestingServer.start(), createTestDatabase('zk_views')]);
  registry = await startRegistryApp(server, {
    databaseUrl: database.url,
    grpc: true,
    env: { REGISTRY_SSE_HEARTBEAT_MS: '300', REGISTRY_EVENTS_POLL_MS: '50' },
  });
  zk = await zkSession(server, registry.root);
  grpc = new RegistryClient(registry.grpcPort);
  await timing.waitFor(() => registry.drain.isDrainer, { message: 'drainer' });
}, timing.ms(60_000));

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  grpc?.close();
  await zk?.close();
  await registry?.close();
  await database?.drop();
  await server?.close();
});

async function cluster(): Promise<ClusterView> {
  return (await request(registry.app.getHttpServer()).get('/v1/cluster').expect(200))
    .body as ClusterView;
}

async function member<T extends MemberInfo>(
  kind: 'schedulers' | 'workers',
  id: string,
  data: T,
): Promise<GroupMembership<T>> {
  const membership = new GroupMembership<T>(zk, { path: ZkLayout.members(kind), id, data });
  await membership.start();
  closers.push(() => membership.close());
  return membership;
}

describe('GET /v1/cluster', () => {
  it('shows the leader, schedulers, workers with their load, and registries, as they change', async () => {
    const started = Date.now();
    // A scheduler that stands for election and announces itself in /leader, as the real one does.
    const election = new LeaderElection(zk, {
      path: ZkLayout.schedulerElection,
      id: 'sched-a',
      data: { pid: 11 },
    });
    const elected = election.next('elected');
    await election.start();
    closers.push(() => election.close());
    const [token] = await elected;
    const leader: LeaderInfo = {
      id: 'sched-a',
      pid: 11,
      endpoint: 'host-a:3000',
      since: started,
      fencingToken: `${token.epoch}:${token.candidatePath}`,
    };
    await zk.create(ZkLayout.leader, encodeJson(leader));
    await member<MemberInfo>('schedulers', 'sched-a', {
      endpoint: 'host-a:3000',
      pid: 11,
      startedAt: started,
    });
    await member<MemberInfo>('schedulers', 'sched-b', {
      endpoint: 'host-b:3010',
      pid: 12,
      startedAt: started,
    });
    const worker = await member<WorkerInfo>('workers', 'worker-1', {
      endpoint: 'host-c:3002',
      pid: 13,
      startedAt: started,
      capacity: 8,
      labels: { zone: 'a' },
    });
    await zk.mkdirp(ZkLayout.assignments('worker-1'));
    await zk.multi(
      ['t1', 't2', 't3'].map((t) => Op.create(ZkLayout.assignment('worker-1', t), '{"attempt":1}')),
    );

    const view = await timing.waitFor(
      async () => {
        const current = await cluster();
        return current.workers[0]?.running === 3 && current.schedulers.length === 2
          ? current
          : undefined;
      },
      { message: 'cluster view complete' },
    );
    expect(view).toEqual({
      leader: {
        id: 'sched-a',
        pid: 11,
        endpoint: 'host-a:3000',
        since: new Date(started).toISOString(),
        fencingToken: leader.fencingToken,
        epoch: leader.fencingToken.split(':')[0],
        inElection: true,
      },
      schedulers: [
        {
          id: 'sched-a',
          endpoint: 'host-a:3000',
          pid: 11,
          startedAt: new Date(started).toISOString(),
          leader: true,
        },
        {
          id: 'sched-b',
          endpoint: 'host-b:3010',
          pid: 12,
          startedAt: new Date(started).toISOString(),
          leader: false,
        },
      ],
      workers: [
        {
          id: 'worker-1',
          endpoint: 'host-c:3002',
          pid: 13,
          startedAt: new Date(started).toISOString(),
          capacity: 8,
          running: 3,
          labels: { zone: 'a' },
          draining: false,
        },
      ],
      registries: [
        expect.objectContaining({ id: registry.memberId, drainer: true, pid: process.pid }),
      ],
      drainer: registry.memberId,
      stale: false,
      // The drainer keeps the outbox empty here.
      outboxDepth: 0,
      zookeeper: { state: 'connected' },
    });

    // Load, draining, and a leader whose candidate has left the election.
    await zk.delete(ZkLayout.assignment('worker-1', 't1'));
    await worker.update({
      endpoint: 'host-c:3002',
      pid: 13,
      startedAt: started,
      capacity: 8,
      labels: { zone: 'a' },
      draining: true,
    });
    await election.close();
    const later = await timing.waitFor(
      async () => {
        const current = await cluster();
        return current.workers[0]?.running === 2 &&
          current.workers[0].draining &&
          current.leader?.inElection === false
          ? current
          : undefined;
      },
      { message: 'cluster view follows' },
    );
    expect(later.schedulers.every((s) => !s.leader)).toBe(true);

    const message = await grpc.call<ClusterMessage>('GetCluster', {});
    expect(message).toMatchObject({
      leader: { id: 'sched-a', inElection: false },
      workers: [{ id: 'worker-1', running: 2, draining: true, labels: { zone: 'a' } }],
      registries: [{ id: registry.memberId, drainer: true }],
      drainer: registry.memberId,
      stale: false,
    });
  });
});

describe('GET /v1/events (Server-Sent Events)', () => {
  it('streams the events as they are stored, in order, with heartbeats; resumes after Last-Event-ID', async () => {
    const reader = await SseReader.open(registry.url('/v1/events'));
    closers.push(() => reader.close());
    const first = await fillOutbox(zk, 10, 3);
    const got = await reader.take(first.length);
    expect(got.map((e) => e.data.id)).toEqual(first.map((e) => e.id));
    expect(got.map((e) => e.id)).toEqual(got.map((e) => e.data.seq));
    await timing.waitFor(() => reader.comments.some((c) => c.startsWith('keep-alive')), {
      message: 'a heartbeat comment',
    });
    const lastSeen = got[14].id;
    await reader.close();

    // Stored while nobody listened: a client resuming after event 15 gets 16.. and then the new ones.
    const second = await fillOutbox(zk, 5, 2);
    await timing.waitFor(async () => (await outboxDepth(zk)) === 0);
    const resumed = await SseReader.open(registry.url('/v1/events'), { 'Last-Event-ID': lastSeen });
    closers.push(() => resumed.close());
    const expected = [...first.slice(15), ...second].map((e) => e.id);
    const replay = await resumed.take(expected.length);
    expect(replay.map((e) => e.data.id)).toEqual(expected);
    const third = await fillOutbox(zk, 2, 1);
    expect((await resumed.take(2)).map((e) => e.data.id)).toEqual(third.map((e) => e.id));
  });

  it('filters the stream like the audit query', async () => {
    const reader = await SseReader.open(registry.url('/v1/events?taskId=only-me'));
    closers.push(() => reader.close());
    let n = 0;
    const events = await fillOutbox(zk, 6, 1, () => ({
      ...fillerEvent(),
      ...(n++ % 2 === 0 ? { taskId: 'only-me' } : {}),
    }));
    const got = await reader.take(3);
    expect(got.map((e) => e.data.id)).toEqual(
      events.filter((e) => e.taskId === 'only-me').map((e) => e.id),
    );
  });

  it('bounds streams per caller and how far back a stream may resume', async () => {
    const bounded = await startRegistryApp(server, {
      databaseUrl: database.url,
      grpc: true,
      env: { REGISTRY_MAX_STREAMS_PER_CALLER: '2', REGISTRY_MAX_REPLAY_EVENTS: '5' },
    });
    const boundedGrpc = new RegistryClient(bounded.grpcPort);
    try {
      await fillOutbox(zk, 10, 1);
      await timing.waitFor(async () => (await outboxDepth(zk)) === 0);
      const open = [
        await SseReader.open(bounded.url('/v1/events')),
        await SseReader.open(bounded.url('/v1/events')),
      ];
      const third = await fetch(bounded.url('/v1/events'));
      expect(third.status).toBe(429);
      expect(await third.json()).toMatchObject({
        errors: [{ field: 'authorization', reason: 'at most 2 streams at once' }],
      });
      await open[0].close();
      await timing.waitFor(async () => {
        const again = await SseReader.open(bounded.url('/v1/events')).catch(() => undefined);
        if (again) open.push(again);
        return again !== undefined;
      });
      for (const reader of open) await reader.close();

      const fromZero = await request(bounded.app.getHttpServer())
        .get('/v1/events')
        .set('Last-Event-ID', '0')
        .expect(400);
      expect(fromZero.body.errors).toEqual([
        {
          field: 'Last-Event-ID',
          reason: expect.stringMatching(/more than 5 events behind the newest/),
        },
      ]);
      const byQuery = await request(bounded.app.getHttpServer())
        .get('/v1/events?lastEventId=0')
        .expect(400);
      expect(byQuery.body.errors[0].field).toBe('lastEventId');
      const overGrpc = await new Promise<ServiceError>((resolve) =>
        boundedGrpc.stream('StreamEvents', { lastEventId: '0' }).on('error', resolve),
      );
      expect(overGrpc.code).toBe(status.INVALID_ARGUMENT);
      expect(overGrpc.details).toMatch(/lastEventId is more than 5 events behind/);
    } finally {
      boundedGrpc.close();
      await bounded.close();
    }
  });

  it('answers 400 for a Last-Event-ID that is not a seq, before opening the stream', async () => {
    const res = await request(registry.app.getHttpServer())
      .get('/v1/events')
      .set('Last-Event-ID', 'abc')
      .expect(400);
    expect(res.body.errors).toEqual([
      { field: 'Last-Event-ID', reason: expect.stringMatching(/seq/) },
    ]);
  });
});

describe('gRPC', () => {
  it('QueryAudit pages like GET /v1/audit and refuses bad input naming the field', async () => {
    const events = await fillOutbox(zk, 3, 1, () => ({
      ...fillerEvent(),
      jobId: '00000000-0000-4000-8000-0000000000aa',
    }));
    await timing.waitFor(async () => (await outboxDepth(zk)) === 0);
    const page = await grpc.call<QueryAuditResponse>('QueryAudit', {
      jobId: '00000000-0000-4000-8000-0000000000aa',
      limit: 2,
    });
    expect(page.items.map((e) => e.id)).toEqual(events.slice(0, 2).map((e) => e.id));
    expect(page.nextCursor).toBe(page.items[1].seq);
    const rest = await grpc.call<QueryAuditResponse>('QueryAudit', {
      jobId: '00000000-0000-4000-8000-0000000000aa',
      cursor: page.nextCursor,
    });
    expect(rest.items.map((e) => e.id)).toEqual([events[2].id]);
    expect(rest.nextCursor).toBeUndefined();
    const bad = await grpc.failure('QueryAudit', { limit: 5000, type: 'nope' });
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.errors.map((e) => e.field).sort()).toEqual(['limit', 'type']);
  });

  it('StreamEvents streams stored events in order from after last_event_id', async () => {
    const before = await fillOutbox(zk, 2, 1);
    await timing.waitFor(async () => (await outboxDepth(zk)) === 0);
    const stored = (
      await request(registry.app.getHttpServer()).get('/v1/audit').query({ limit: 1000 })
    ).body as {
      items: AuditEventView[];
    };
    const anchor = stored.items.find((e) => e.id === before[0].id)!;
    const stream = grpc.stream<AuditEventMessage>('StreamEvents', { lastEventId: anchor.seq });
    const received: AuditEventMessage[] = [];
    stream.on('data', (message: AuditEventMessage) => received.push(message));
    stream.on('error', () => undefined);
    const after = await fillOutbox(zk, 3, 1);
    await timing.waitFor(() => received.length >= 4, { message: 'streamed' });
    stream.cancel();
    expect(received.map((m) => m.id)).toEqual([before[1].id, ...after.map((e) => e.id)]);
    expect(received[0]).toMatchObject({ type: 'task.created', actor: 'test/outbox/1' });
  });
});

function fillerEvent() {
  return {
    id: crypto.randomUUID(),
    time: Date.now(),
    type: 'task.created' as const,
    actor: 'test/outbox/1',
  };
}

describe('shutdown', () => {
  it('ends open live streams, so that the application closes', async () => {
    const other = await startRegistryApp(server, { databaseUrl: database.url, grpc: true });
    const reader = await SseReader.open(other.url('/v1/events'));
    const client = new RegistryClient(other.grpcPort);
    const stream = client.stream<AuditEventMessage>('StreamEvents', {});
    const ended = new Promise<void>((resolve) => {
      stream.on('error', () => resolve());
      stream.on('end', () => resolve());
    });
    stream.on('data', () => undefined);
    try {
      await timing.withTimeout(other.close(), 10_000, 'the registry closes with streams open');
      await timing.withTimeout(ended, 5_000, 'the gRPC stream ends');
    } finally {
      client.close();
      await reader.close();
    }
  });
});
