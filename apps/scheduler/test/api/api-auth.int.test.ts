import { randomUUID } from 'node:crypto';
/**
 * API authentication from outside: every door of the scheduler's HTTP and
 * gRPC API with no token, a wrong one, and a role too weak — each refused
 * with its status in the API's error shape, and nothing written to
 * ZooKeeper — then what each role may do, the token name in the audit
 * events, open health, metrics behind a token when asked, and the write rate
 * limit per token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Module } from '@nestjs/common';
import { Metadata, status } from '@grpc/grpc-js';
import { AppConfigModule, HealthModule, MetricsModule } from '@app/common';
import request from 'supertest';
import { NoAuthError, ZkClient } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import type { AuditEvent, OutboxEntry, TaskRecord } from '@app/contracts';
import { ApiModule } from '../../src/api/api.module';
import { SCHEDULER_SERVICE } from '../../src/scheduler.module';
import { SchedulerClient, startApiApp, type ApiApp } from './support/api-app';

/** The API with health and metrics, as a scheduler serves them (no leader). */
@Module({
  imports: [AppConfigModule.forRoot(SCHEDULER_SERVICE), HealthModule, MetricsModule, ApiModule],
})
class ApiWithMetricsModule {}

const TOKENS = {
  admin: 'admin-token-0123456789abcdef',
  submitter: 'submitter-token-0123456789ab',
  reader: 'reader-token-0123456789abcdef',
  otherSubmitter: 'other-submitter-token-01234',
};

let server: TestingServer;
let api: ApiApp;
let grpc: SchedulerClient;

function writeTokensFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zks-tokens-'));
  const file = path.join(dir, 'tokens.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'ops', role: 'admin', token: TOKENS.admin },
      { name: 'ci', role: 'submitter', token: TOKENS.submitter },
      { name: 'dashboard', role: 'reader', token: TOKENS.reader },
      { name: 'cd', role: 'submitter', token: TOKENS.otherSubmitter },
    ]),
    { mode: 0o600 },
  );
  return file;
}

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server, {
    module: ApiWithMetricsModule,
    grpc: true,
    env: { API_TOKENS_FILE: writeTokensFile() },
  });
  grpc = new SchedulerClient(api.grpcPort);
}, timing.ms(60_000));

afterAll(async () => {
  grpc?.close();
  await api?.close();
  await server?.close();
});

const bearer = (token: string): string => `Bearer ${token}`;
const grpcAuth = (token: string): Metadata => {
  const metadata = new Metadata();
  metadata.set('authorization', bearer(token));
  return metadata;
};
const task = { type: 'noop', payload: { n: 1 } };
const job = (name: string): object => ({ name, type: 'noop', schedule: '0 * * * *' });

/** Znodes under the cluster root that an API write would add to. */
async function writtenState(): Promise<number[]> {
  const counts: number[] = [];
  for (const parent of ['/jobs', '/tasks', '/audit/outbox']) {
    counts.push((await api.zk.exists(parent))?.numChildren ?? 0);
  }
  return counts;
}

describe('HTTP', () => {
  it('refuses every write and read without a valid token, 401 in the API error shape, nothing changed', async () => {
    const before = await writtenState();
    const doors: Array<[string, string, object?]> = [
      ['post', '/v1/tasks', task],
      ['post', '/v1/tasks/batch', { tasks: [task] }],
      ['post', '/v1/jobs', job('no-token')],
      ['get', '/v1/jobs'],
      ['get', '/v1/tasks'],
      ['post', '/v1/jobs/preview', { schedule: '* * * * *' }],
    ];
    for (const [method, url, body] of doors) {
      for (const authorization of [undefined, bearer('wrong-token-0123456789'), 'Basic abc']) {
        let call = request(api.http)[method as 'get' | 'post'](url);
        if (authorization !== undefined) call = call.set('Authorization', authorization);
        const response = await (body ? call.send(body) : call);
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Bearer');
        expect(response.body).toMatchObject({
          statusCode: 401,
          error: 'Unauthorized',
          errors: [{ field: 'authorization' }],
        });
        expect(JSON.stringify(response.body)).not.toContain('wrong-token');
      }
    }
    expect(await writtenState()).toEqual(before);
  });

  it('refuses a role too weak with 403 and changes nothing', async () => {
    const before = await writtenState();
    const reader = bearer(TOKENS.reader);
    const submitter = bearer(TOKENS.submitter);
    const refused = [
      await request(api.http).post('/v1/tasks').set('Authorization', reader).send(task),
      await request(api.http).post('/v1/jobs').set('Authorization', reader).send(job('r')),
      await request(api.http).post('/v1/jobs').set('Authorization', submitter).send(job('s')),
      await request(api.http).delete('/v1/jobs/any-id').set('Authorization', submitter),
    ];
    for (const response of refused) {
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({
        statusCode: 403,
        error: 'Forbidden',
        errors: [{ field: 'authorization', reason: expect.stringMatching(/needs role/) }],
      });
    }
    expect(await writtenState()).toEqual(before);
  });

  it('lets each role do its part and records the token name in the audit events', async () => {
    const list = await request(api.http)
      .get('/v1/jobs')
      .set('Authorization', bearer(TOKENS.reader));
    expect(list.status).toBe(200);
    // A preview writes nothing: a reader may ask for one (HTTP and gRPC).
    const preview = await request(api.http)
      .post('/v1/jobs/preview')
      .set('Authorization', bearer(TOKENS.reader))
      .send({ schedule: '0 9 * * *', count: 2 });
    expect(preview.status).toBe(200);
    await expect(
      grpc.call('PreviewJob', { schedule: '0 9 * * *' }, grpcAuth(TOKENS.reader)),
    ).resolves.toMatchObject({ timezone: 'UTC' });

    const submitted = await request(api.http)
      .post('/v1/tasks')
      .set('Authorization', bearer(TOKENS.submitter))
      .send(task);
    expect(submitted.status).toBe(202);
    const created = await request(api.http)
      .post('/v1/jobs')
      .set('authorization', `bearer ${TOKENS.admin}`)
      .send(job('by-admin'));
    expect(created.status).toBe(201);

    const { children } = await api.zk.children('/audit/outbox');
    const events: AuditEvent[] = [];
    for (const child of children) {
      const { data } = await api.zk.get(`/audit/outbox/${child}`);
      events.push(...(JSON.parse(data.toString()) as OutboxEntry).events);
    }
    const taskCreated = events.find(
      (e) => e.type === 'task.created' && e.taskId === (submitted.body as { id: string }).id,
    );
    expect(taskCreated?.detail).toMatchObject({ token: 'ci' });
    const jobCreated = events.find(
      (e) => e.type === 'job.created' && e.jobId === (created.body as { id: string }).id,
    );
    expect(jobCreated?.detail).toMatchObject({ token: 'ops' });
  });

  it('keeps health and (by default) metrics open', async () => {
    expect((await request(api.http).get('/health/live')).status).toBe(200);
    expect((await request(api.http).get('/metrics')).status).toBe(200);
  });
});

describe('ownership', () => {
  const as = (token: string) => ({
    submit: (body: object) =>
      request(api.http).post('/v1/tasks').set('Authorization', bearer(token)).send(body),
    cancel: (id: string) =>
      request(api.http).post(`/v1/tasks/${id}/cancel`).set('Authorization', bearer(token)),
    trigger: (id: string) =>
      request(api.http).post(`/v1/jobs/${id}/trigger`).set('Authorization', bearer(token)),
  });
  const stateOf = async (id: string): Promise<TaskRecord> =>
    JSON.parse((await api.zk.get(`/tasks/${id}`)).data.toString()) as TaskRecord;

  it('lets a submitter cancel only its own tasks (admin: any), changing nothing when refused', async () => {
    const mine = (await as(TOKENS.submitter).submit(task)).body as { id: string };
    expect((await stateOf(mine.id)).owner).toBe('ci');

    const before = await writtenState();
    const refused = await as(TOKENS.otherSubmitter).cancel(mine.id);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      message: expect.stringMatching(
        /token "cd" \(role submitter\) may act only on what it submitted/,
      ),
      errors: [{ field: 'id', reason: 'belongs to token "ci"' }],
    });
    const overGrpc = await grpc.failure(
      'CancelTask',
      { id: mine.id },
      grpcAuth(TOKENS.otherSubmitter),
    );
    expect(overGrpc.code).toBe(status.PERMISSION_DENIED);
    expect(await writtenState()).toEqual(before);
    expect((await stateOf(mine.id)).state).toBe('pending');

    expect((await as(TOKENS.submitter).cancel(mine.id)).status).toBe(202);
    const another = (await as(TOKENS.submitter).submit(task)).body as { id: string };
    expect((await as(TOKENS.admin).cancel(another.id)).status).toBe(202);
  });

  it("lets a submitter trigger only its own jobs: an admin's job is refused", async () => {
    const created = await request(api.http)
      .post('/v1/jobs')
      .set('Authorization', bearer(TOKENS.admin))
      .send(job('owned-by-ops'));
    const id = (created.body as { id: string }).id;
    const before = await writtenState();
    expect((await as(TOKENS.submitter).trigger(id)).status).toBe(403);
    expect(await writtenState()).toEqual(before);
    const fired = await as(TOKENS.admin).trigger(id);
    expect(fired.status).toBe(202);
    expect((await stateOf((fired.body as { taskId: string }).taskId)).owner).toBe('ops');
  });

  it('keeps idempotency keys per token', async () => {
    const keyed = { ...task, idempotencyKey: 'nightly-report' };
    const first = (await as(TOKENS.submitter).submit(keyed)).body as { id: string };
    const other = (await as(TOKENS.otherSubmitter).submit(keyed)).body as { id: string };
    const again = (await as(TOKENS.submitter).submit(keyed)).body as { id: string };
    expect(other.id).not.toBe(first.id);
    expect(again.id).toBe(first.id);
    expect((await stateOf(other.id)).owner).toBe('cd');
  });
});

describe('gRPC', () => {
  it('answers UNAUTHENTICATED without a token or with a wrong one, nothing changed', async () => {
    const before = await writtenState();
    const bad = new Metadata();
    bad.set('authorization', bearer('wrong-token-0123456789'));
    for (const metadata of [new Metadata(), bad]) {
      const submit = await grpc.failure('SubmitTask', { type: 'noop' }, metadata);
      expect(submit.code).toBe(status.UNAUTHENTICATED);
      expect(submit.errors).toEqual([{ field: 'authorization', reason: expect.any(String) }]);
      expect((await grpc.failure('ListJobs', {}, metadata)).code).toBe(status.UNAUTHENTICATED);
    }
    expect(await writtenState()).toEqual(before);
  });

  it('answers PERMISSION_DENIED to a role too weak and serves the right one', async () => {
    const before = await writtenState();
    const denied = await grpc.failure('SubmitTask', { type: 'noop' }, grpcAuth(TOKENS.reader));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    const jobDenied = await grpc.failure(
      'CreateJob',
      job('grpc-submitter'),
      grpcAuth(TOKENS.submitter),
    );
    expect(jobDenied.code).toBe(status.PERMISSION_DENIED);
    expect(await writtenState()).toEqual(before);

    await expect(grpc.call('ListJobs', {}, grpcAuth(TOKENS.reader))).resolves.toBeDefined();
    const submitted = await grpc.call<{ id: string }>(
      'SubmitTask',
      { type: 'noop' },
      grpcAuth(TOKENS.submitter),
    );
    expect(submitted.id).toEqual(expect.any(String));
  });
});

describe('metrics behind a token and the write rate limit', () => {
  let locked: ApiApp;

  beforeAll(async () => {
    locked = await startApiApp(server, {
      module: ApiWithMetricsModule,
      env: {
        API_TOKEN: TOKENS.admin,
        API_METRICS_REQUIRE_TOKEN: 'true',
        API_RATE_LIMIT_PER_MINUTE: '2',
      },
    });
  }, timing.ms(30_000));

  afterAll(async () => {
    await locked?.close();
  });

  it('asks a token for /metrics but never for health', async () => {
    expect((await request(locked.http).get('/metrics')).status).toBe(401);
    const scraped = await request(locked.http)
      .get('/metrics')
      .set('Authorization', bearer(TOKENS.admin));
    expect(scraped.status).toBe(200);
    expect((await request(locked.http).get('/health/ready')).status).toBe(200);
  });

  it('answers 429 with Retry-After past the rate, and reads stay allowed', async () => {
    const submit = () =>
      request(locked.http).post('/v1/tasks').set('Authorization', bearer(TOKENS.admin)).send(task);
    expect((await submit()).status).toBe(202);
    expect((await submit()).status).toBe(202);
    const before = (await locked.zk.exists('/tasks'))?.numChildren;
    const limited = await submit();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429, errors: [{ field: 'authorization' }] });
    expect((await locked.zk.exists('/tasks'))?.numChildren).toBe(before);
    const read = await request(locked.http)
      .get('/v1/tasks')
      .set('Authorization', bearer(TOKENS.admin));
    expect(read.status).toBe(200);
  });
});

describe('ZK_AUTH', () => {
  it('refuses to start on a root someone else left open, creating nothing under it', async () => {
    const root = `/open-${randomUUID()}`;
    // An outsider (no credentials) made the root first: its ACL is world:anyone.
    const outsider = new ZkClient({ connectString: server.connectString, root });
    await outsider.start();
    try {
      await expect(
        startApiApp(server, { env: { ZK_AUTH: 'zk-scheduler:zk-s3cret', ZK_ROOT: root } }),
      ).rejects.toThrow(
        `ZooKeeper node ${root} is open to every client (world:anyone) although this client authenticates`,
      );
      expect((await outsider.children('/')).children).toEqual([]);
    } finally {
      await outsider.close();
    }
  });

  it("closes the API's znodes to ZooKeeper clients without the credentials", async () => {
    const closed = await startApiApp(server, { env: { ZK_AUTH: 'zk-scheduler:zk-s3cret' } });
    try {
      const submitted = await request(closed.http).post('/v1/tasks').send(task);
      expect(submitted.status).toBe(202);
      const id = (submitted.body as { id: string }).id;
      // closed.zk is a session on the same root without ZK_AUTH: an outsider.
      await expect(closed.zk.get(`/tasks/${id}`)).rejects.toBeInstanceOf(NoAuthError);
      await expect(closed.zk.children('/tasks')).rejects.toBeInstanceOf(NoAuthError);
      await expect(closed.zk.create(`/tasks/${id}-forged`, '{}')).rejects.toBeInstanceOf(
        NoAuthError,
      );
      await expect(closed.zk.set(`/tasks/${id}`, '{}')).rejects.toBeInstanceOf(NoAuthError);
      // The API itself still reads its own task.
      const read = await request(closed.http).get(`/v1/tasks/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, type: 'noop' });
    } finally {
      await closed.close();
    }
  });
});
