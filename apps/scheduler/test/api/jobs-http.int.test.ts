/**
 * /v1/jobs over HTTP against a real ZooKeeper: create, read (nextFireAt from
 * the schedule or the leader's state), list with cursors, patch, pause,
 * delete, trigger; and every way a request can be wrong, each answered 4xx
 * with the field and the reason.
 */
import request from 'supertest';
import { Op } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout, type JobRecord } from '@app/contracts';
import type { ApiErrorBody, JobView, Page } from '@app/contracts/dto/scheduler-api';
import { decodeJson, encodeJson } from '@app/store';
import { startApiApp, type ApiApp, NEXT_YEAR } from './support/api-app';

let server: TestingServer;
let api: ApiApp;

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server);
}, timing.ms(60_000));

afterAll(async () => {
  await api?.close();
  await server?.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let names = 0;
const uniqueName = (): string => `job-${++names}-${Date.now()}`;

async function createJob(body: Record<string, unknown> = {}): Promise<JobView> {
  const res = await request(api.http)
    .post('/v1/jobs')
    .send({ name: uniqueName(), type: 'noop', schedule: '*/5 * * * *', ...body })
    .expect(201);
  return res.body as JobView;
}

/** The error body of a request expected to fail with `status`. */
async function failure(test: request.Test, status: number): Promise<ApiErrorBody> {
  const res = await test.expect(status).expect('Content-Type', /json/);
  const body = res.body as ApiErrorBody;
  expect(body).toEqual({
    statusCode: status,
    error: expect.any(String),
    message: expect.any(String),
    errors: expect.any(Array),
  });
  return body;
}

describe('creating and reading jobs', () => {
  it('creates a cron job with the defaults and its next fire, stored in ZooKeeper', async () => {
    const before = Date.now();
    const job = await createJob({ payload: { report: 'daily' } });
    expect(job).toMatchObject({
      id: expect.stringMatching(UUID),
      type: 'noop',
      payload: { report: 'daily' },
      schedule: '*/5 * * * *',
      timezone: 'UTC',
      runAt: null,
      retry: { maxAttempts: 1, backoffMs: 1000 },
      timeoutMs: null,
      concurrency: 'allow',
      misfire: 'fire_once',
      selector: null,
      parallelism: 1,
      paused: false,
      lastFireAt: null,
    });
    const next = Date.parse(job.nextFireAt!);
    expect(next).toBeGreaterThan(before);
    expect(next).toBeLessThanOrEqual(before + 5 * 60_000);
    expect(next % (5 * 60_000)).toBe(0);
    const stored = decodeJson<JobRecord>((await api.zk.get(ZkLayout.job(job.id))).data);
    expect(stored).toMatchObject({ id: job.id, name: job.name, schedule: '*/5 * * * *' });
  });

  it('creates a one-off job whose next fire is its runAt', async () => {
    const job = await createJob({
      schedule: undefined,
      runAt: `${NEXT_YEAR}-01-01T10:00:00+01:00`,
      timeoutMs: 30_000,
      concurrency: 'forbid',
      misfire: 'skip',
      selector: { labels: { zone: 'eu-1' } },
      parallelism: 3,
      retry: { maxAttempts: 4, backoffMs: 250 },
    });
    expect(job).toMatchObject({
      schedule: null,
      runAt: `${NEXT_YEAR}-01-01T09:00:00.000Z`,
      nextFireAt: `${NEXT_YEAR}-01-01T09:00:00.000Z`,
      timeoutMs: 30_000,
      concurrency: 'forbid',
      misfire: 'skip',
      selector: { labels: { zone: 'eu-1' } },
      parallelism: 3,
      retry: { maxAttempts: 4, backoffMs: 250 },
    });
  });

  it('reads a cron schedule in its time zone', async () => {
    const job = await createJob({ schedule: '0 9 * * *', timezone: 'Asia/Kolkata' });
    const next = new Date(job.nextFireAt!);
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([3, 30]);
  });

  it('gets a job; its next and last fire come from the leader’s state when there is one', async () => {
    const job = await createJob();
    const res = await request(api.http).get(`/v1/jobs/${job.id}`).expect(200);
    expect(res.body).toEqual(job);

    const state = { lastFireAt: Date.UTC(2031, 0, 1), nextFireAt: Date.UTC(2031, 0, 1, 0, 5) };
    await api.zk.create(ZkLayout.jobState(job.id), encodeJson(state));
    const withState = (await request(api.http).get(`/v1/jobs/${job.id}`).expect(200))
      .body as JobView;
    expect(withState.lastFireAt).toBe('2031-01-01T00:00:00.000Z');
    expect(withState.nextFireAt).toBe('2031-01-01T00:05:00.000Z');
  });

  it('refuses a second job with the same name: 409 naming the name', async () => {
    const job = await createJob();
    const body = await failure(
      request(api.http)
        .post('/v1/jobs')
        .send({ name: job.name, type: 'noop', runAt: `${NEXT_YEAR}-01-01T00:00:00Z` }),
      409,
    );
    expect(body.errors).toEqual([{ field: 'name', reason: expect.stringContaining('is taken') }]);
  });

  it('answers 404 naming the id for a job that does not exist', async () => {
    const body = await failure(
      request(api.http).get('/v1/jobs/00000000-0000-4000-8000-000000000000'),
      404,
    );
    expect(body.errors).toEqual([{ field: 'id', reason: 'no such job' }]);
  });
});

describe('listing jobs', () => {
  it('walks every job a page at a time, in id order', async () => {
    const created = await Promise.all(Array.from({ length: 7 }, () => createJob()));
    const all = (await request(api.http).get('/v1/jobs?limit=1000').expect(200))
      .body as Page<JobView>;
    expect(all.nextCursor).toBeNull();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
      const page = (await request(api.http).get(`/v1/jobs${query}`).expect(200))
        .body as Page<JobView>;
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((job) => job.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);
    expect(seen).toEqual(all.items.map((job) => job.id));
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(created.map((job) => job.id)));
    expect(pages).toBe(Math.ceil(seen.length / 3));
  });

  it.each([
    ['limit=0', 'limit', /between 1 and 1000/],
    ['limit=1001', 'limit', /between 1 and 1000/],
    ['limit=ten', 'limit', /integer/],
    ['cursor=..%2Fjobs', 'cursor', /nextCursor/],
    ['colour=red', 'colour', /not a known field/],
  ])('refuses ?%s', async (query, field, reason) => {
    const body = await failure(request(api.http).get(`/v1/jobs?${query}`), 400);
    expect(body.errors).toEqual([{ field, reason: expect.stringMatching(reason) }]);
  });
});

describe('changing jobs', () => {
  it('patches fields and validates the result as a whole', async () => {
    const job = await createJob({ timeoutMs: 1_000, selector: { labels: { a: 'b' } } });
    const patched = (
      await request(api.http)
        .patch(`/v1/jobs/${job.id}`)
        .send({
          schedule: '30 6 * * *',
          timezone: 'Europe/Paris',
          payload: [1, 2],
          timeoutMs: null,
        })
        .expect(200)
    ).body as JobView;
    expect(patched).toMatchObject({
      id: job.id,
      name: job.name,
      schedule: '30 6 * * *',
      timezone: 'Europe/Paris',
      payload: [1, 2],
      timeoutMs: null,
      selector: { labels: { a: 'b' } },
    });
    expect(Date.parse(patched.updatedAt)).toBeGreaterThanOrEqual(Date.parse(job.updatedAt));
    expect((await request(api.http).get(`/v1/jobs/${job.id}`).expect(200)).body).toEqual(patched);

    const oneOff = (
      await request(api.http)
        .patch(`/v1/jobs/${job.id}`)
        .send({ runAt: `${NEXT_YEAR}-01-01T06:00:00Z`, selector: null })
        .expect(200)
    ).body as JobView;
    expect(oneOff).toMatchObject({
      schedule: null,
      runAt: `${NEXT_YEAR}-01-01T06:00:00.000Z`,
      nextFireAt: `${NEXT_YEAR}-01-01T06:00:00.000Z`,
      selector: null,
    });
    const stored = decodeJson<JobRecord>((await api.zk.get(ZkLayout.job(job.id))).data);
    expect(stored).not.toHaveProperty('schedule');
    expect(stored).not.toHaveProperty('timeoutMs');
  });

  it('pauses (no next fire) and resumes a job', async () => {
    const job = await createJob();
    const paused = (
      await request(api.http).patch(`/v1/jobs/${job.id}`).send({ paused: true }).expect(200)
    ).body as JobView;
    expect(paused).toMatchObject({ paused: true, nextFireAt: null });
    const resumed = (
      await request(api.http).patch(`/v1/jobs/${job.id}`).send({ paused: false }).expect(200)
    ).body as JobView;
    expect(resumed.paused).toBe(false);
    expect(resumed.nextFireAt).not.toBeNull();
  });

  it('renames a job, but not onto another job’s name (409)', async () => {
    const [a, b] = [await createJob(), await createJob()];
    const renamed = uniqueName();
    await request(api.http).patch(`/v1/jobs/${a.id}`).send({ name: renamed }).expect(200);
    const body = await failure(
      request(api.http).patch(`/v1/jobs/${b.id}`).send({ name: renamed }),
      409,
    );
    expect(body.errors[0].field).toBe('name');
    // The old name is free again.
    await createJob({ name: a.name });
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a time zone unknown to the schedule', { timezone: 'Mars/Base' }, 'timezone', /IANA/],
    [
      'schedule and runAt together',
      { schedule: '* * * * *', runAt: '2030-01-01T00:00:00Z' },
      'schedule',
      /cannot be combined/,
    ],
    ['a bad cron', { schedule: '* * 32 * *' }, 'schedule', /day-of-month field/],
    ['a null name', { name: null }, 'name', /must be a string/],
    ['an unknown field', { owner: 'me' }, 'owner', /not a known field/],
    ['a negative parallelism', { parallelism: -2 }, 'parallelism', /integer between 1/],
  ])('refuses a patch with %s', async (_case, patch, field, reason) => {
    const job = await createJob();
    const body = await failure(request(api.http).patch(`/v1/jobs/${job.id}`).send(patch), 400);
    expect(body.errors).toContainEqual({ field, reason: expect.stringMatching(reason) });
    expect((await request(api.http).get(`/v1/jobs/${job.id}`).expect(200)).body).toEqual(job);
  });

  it('answers 404 when patching a job that does not exist', async () => {
    await failure(
      request(api.http)
        .patch('/v1/jobs/00000000-0000-4000-8000-000000000000')
        .send({ paused: true }),
      404,
    );
  });

  it('deletes a job: 204, then 404', async () => {
    const job = await createJob();
    await request(api.http).delete(`/v1/jobs/${job.id}`).expect(204);
    await failure(request(api.http).get(`/v1/jobs/${job.id}`), 404);
    await failure(request(api.http).delete(`/v1/jobs/${job.id}`), 404);
    // Its name is free again.
    await createJob({ name: job.name });
  });

  it('deletes a job that has leader state', async () => {
    const job = await createJob();
    await api.zk.multi([Op.create(ZkLayout.jobState(job.id), encodeJson({ nextFireAt: null }))]);
    await request(api.http).delete(`/v1/jobs/${job.id}`).expect(204);
    expect(await api.zk.exists(ZkLayout.jobState(job.id))).toBeNull();
  });
});

describe('triggering jobs', () => {
  it('submits a task of the job now: 202 with an id that GET /v1/tasks finds', async () => {
    const job = await createJob({ payload: { n: 1 }, timeoutMs: 5_000, paused: true });
    const res = await request(api.http).post(`/v1/jobs/${job.id}/trigger`).expect(202);
    const { taskId } = res.body as { taskId: string };
    expect(taskId).toMatch(new RegExp(`^${job.id}@manual-[0-9a-f-]{36}$`));
    const task = (await request(api.http).get(`/v1/tasks/${taskId}`).expect(200)).body;
    expect(task).toMatchObject({
      id: taskId,
      jobId: job.id,
      type: 'noop',
      payload: { n: 1 },
      timeoutMs: 5_000,
      state: 'pending',
    });
    const listed = (await request(api.http).get(`/v1/tasks?jobId=${job.id}`).expect(200)).body;
    expect(listed.items.map((t: { id: string }) => t.id)).toEqual([taskId]);
  });

  it('answers 404 for an unknown job', async () => {
    await failure(
      request(api.http).post('/v1/jobs/00000000-0000-4000-8000-000000000000/trigger'),
      404,
    );
  });
});

describe('bad requests', () => {
  const valid = { name: 'x', type: 'noop', schedule: '* * * * *' };

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a bad cron', { ...valid, schedule: 'every day' }, 'schedule', /expected 5 fields/],
    ['a cron with H', { ...valid, schedule: 'H * * * *' }, 'schedule', /'H'/],
    ['an unknown time zone', { ...valid, timezone: 'Europe/Atlantis' }, 'timezone', /IANA/],
    ['runAt that is not a date', { name: 'x', type: 'noop', runAt: 'soon' }, 'runAt', /ISO 8601/],
    ['schedule and runAt', { ...valid, runAt: '2030-01-01T00:00:00Z' }, 'schedule', /exactly one/],
    ['neither schedule nor runAt', { name: 'x', type: 'noop' }, 'schedule', /exactly one/],
    ['a negative timeout', { ...valid, timeoutMs: -1 }, 'timeoutMs', /integer between 1/],
    [
      'a fractional maxAttempts',
      { ...valid, retry: { maxAttempts: 2.5 } },
      'retry.maxAttempts',
      /integer/,
    ],
    ['an unknown concurrency', { ...valid, concurrency: 'serial' }, 'concurrency', /one of allow/],
    ['an unknown misfire', { ...valid, misfire: 'never' }, 'misfire', /one of skip/],
    ['an unknown field', { ...valid, priority: 1 }, 'priority', /not a known field/],
    [
      'a nested unknown field',
      { ...valid, selector: { labels: {}, match: 'any' } },
      'selector.match',
      /not a known field/,
    ],
    ['a name of the wrong type', { ...valid, name: ['x'] }, 'name', /must be a string/],
    ['paused as a string', { ...valid, paused: 'true' }, 'paused', /true or false/],
    [
      'labels that are not strings',
      { ...valid, selector: { labels: { a: 1 } } },
      'selector.labels',
      /invalid value/,
    ],
  ])('POST /v1/jobs with %s: 400 naming the field', async (_case, body, field, reason) => {
    const error = await failure(request(api.http).post('/v1/jobs').send(body), 400);
    expect(error.errors).toContainEqual({ field, reason: expect.stringMatching(reason) });
    expect(error.message).toMatch(/^invalid request: /);
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const body = await failure(
      request(api.http)
        .post('/v1/jobs')
        .set('Content-Type', 'application/json')
        .send('{"name": "x",'),
      400,
    );
    expect(body.errors).toEqual([
      { field: 'body', reason: expect.stringMatching(/not valid JSON/) },
    ]);
  });

  it('answers a body that is not a JSON object with 400', async () => {
    // Arrays pass the (strict) JSON parser and fail validation; scalars fail the parser.
    for (const text of ['[1, 2]', '[]', '"job"', 'null', '42']) {
      const body = await failure(
        request(api.http).post('/v1/jobs').set('Content-Type', 'application/json').send(text),
        400,
      );
      expect(body.errors).toEqual([
        { field: 'body', reason: expect.stringMatching(/must be a JSON object|is not valid JSON/) },
      ]);
    }
    const plain = await failure(
      request(api.http).post('/v1/jobs').set('Content-Type', 'text/plain').send('name=x'),
      400,
    );
    expect(plain.errors[0].reason).toMatch(/Content-Type: application\/json/);
  });

  it('answers a payload over 256 KiB with 413 naming the payload', async () => {
    const body = await failure(
      request(api.http)
        .post('/v1/jobs')
        .send({ ...valid, payload: { blob: 'x'.repeat(300_000) } }),
      413,
    );
    expect(body.errors).toEqual([
      {
        field: 'payload',
        reason: expect.stringMatching(/at most 262144 bytes as JSON \(got 300011\)/),
      },
    ]);
  });

  it('answers a body over 10 MiB with 413', async () => {
    const body = await failure(
      request(api.http)
        .post('/v1/jobs')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ ...valid, payload: 'x'.repeat(11 * 1024 * 1024) })),
      413,
    );
    expect(body.errors).toEqual([{ field: 'body', reason: 'must be at most 10485760 bytes' }]);
  });

  it('keeps payload keys that look like prototypes, and refuses __proto__', async () => {
    const payload = { constructor: 'c', prototype: { x: 1 }, nested: { constructor: { a: 1 } } };
    const job = await createJob({ payload });
    expect(job.payload).toEqual(payload);
    const body = await failure(
      request(api.http)
        .post('/v1/jobs')
        .set('Content-Type', 'application/json')
        .send(
          '{"name":"p","type":"noop","schedule":"* * * * *","payload":{"__proto__":{"admin":true}}}',
        ),
      400,
    );
    expect(body.errors).toEqual([
      { field: 'payload', reason: 'must not contain the key "__proto__"' },
    ]);
  });

  it('refuses JSON nested deeper than 64 levels without a stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const body = await failure(
      request(api.http)
        .post('/v1/jobs')
        .set('Content-Type', 'application/json')
        .send(`{"name":"d","type":"noop","schedule":"* * * * *","payload":${deep}}`),
      400,
    );
    expect(body.errors).toEqual([
      { field: 'payload', reason: 'must not nest deeper than 64 levels' },
    ]);
  });

  it.each([
    ['not-a-uuid', 400],
    ['..', 400],
    ['%2e%2e', 400],
    ['..%2F..%2Fzookeeper', 400],
    ['%2Fzookeeper', 400],
    ['a%00b', 400],
    ['%E0%A4%A', 400],
  ])('answers the job id %s with %i, never a ZooKeeper error', async (id, status) => {
    const body = await failure(request(api.http).get(`/v1/jobs/${id}`), status);
    expect(body.errors.length).toBe(1);
    expect(['id', 'path']).toContain(body.errors[0].field);
  });

  it('answers a path with more segments as an unknown route (404, same body shape)', async () => {
    const body = await failure(request(api.http).get('/v1/jobs/../../zookeeper/quota'), 404);
    expect(body.errors).toEqual([]);
  });

  it('leaves the body shape of routes outside /v1 to Nest', async () => {
    const res = await request(api.http).get('/health/nothing').expect(404);
    expect(res.body).not.toHaveProperty('errors');
  });
});
