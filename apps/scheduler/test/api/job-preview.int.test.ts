/**
 * POST /v1/jobs/preview (HTTP) and PreviewJob (gRPC) against a real scheduler
 * API: the next fire instants of a schedule in its zone, across a DST change,
 * a one-off runAt, and every wrong field answered with its name and reason.
 */
import { status } from '@grpc/grpc-js';
import request from 'supertest';
import { TestingServer, timing } from '@app/zk/testing';
import type { ApiErrorBody, JobPreviewView } from '@app/contracts/dto/scheduler-api';
import type { PreviewJobResponse } from '@app/contracts/proto/scheduler/v1/scheduler-messages';
import { SchedulerClient, startApiApp, type ApiApp, NEXT_YEAR } from './support/api-app';

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

async function preview(body: object, expected = 200): Promise<request.Response> {
  return request(api.http).post('/v1/jobs/preview').send(body).expect(expected);
}

test('ten instants by default, in the zone, across the spring-forward change', async () => {
  // Paris moves from +01:00 to +02:00 on the last Sunday of March: 09:00 local stays 09:00.
  const res = await preview({
    schedule: '0 9 * * *',
    timezone: 'Europe/Paris',
    after: `${NEXT_YEAR}-03-24T12:00:00Z`,
  });
  const body = res.body as JobPreviewView;
  expect(body.timezone).toBe('Europe/Paris');
  expect(body.instants).toHaveLength(10);
  for (const instant of body.instants) expect(instant.local).toMatch(/T09:00:00\+0[12]:00$/);
  const offsets = new Set(body.instants.map((i) => i.local.slice(-6)));
  expect(offsets).toEqual(new Set(['+01:00', '+02:00']));
  expect(body.instants[0].at).toBe(`${NEXT_YEAR}-03-25T08:00:00.000Z`);
  // Each `local` names the same instant as its `at`.
  for (const instant of body.instants) {
    expect(Date.parse(instant.local)).toBe(Date.parse(instant.at));
  }
});

test('count, a 6-field schedule, and UTC by default', async () => {
  const res = await preview({
    schedule: '*/15 * * * * *',
    count: 3,
    after: '2030-01-01T00:00:00Z',
  });
  expect(res.body).toEqual({
    timezone: 'UTC',
    instants: [
      { at: '2030-01-01T00:00:15.000Z', local: '2030-01-01T00:00:15Z' },
      { at: '2030-01-01T00:00:30.000Z', local: '2030-01-01T00:00:30Z' },
      { at: '2030-01-01T00:00:45.000Z', local: '2030-01-01T00:00:45Z' },
    ],
  });
});

test('a one-off runAt previews its single instant', async () => {
  const runAt = new Date(Date.now() + 3_600_000).toISOString();
  const res = await preview({ runAt, timezone: 'Asia/Kolkata' });
  const body = res.body as JobPreviewView;
  expect(body.instants).toHaveLength(1);
  expect(body.instants[0].at).toBe(runAt);
  expect(body.instants[0].local).toMatch(/\+05:30$/);
});

test.each([
  [{}, 'schedule', /required unless runAt/],
  [{ schedule: '61 * * * *' }, 'schedule', /./],
  [{ schedule: '* * * * *', runAt: '2030-01-01T00:00:00Z' }, 'schedule', /exactly one/],
  [{ schedule: '* * * * *', timezone: 'Mars/Base' }, 'timezone', /IANA/],
  [{ schedule: '* * * * *', count: 0 }, 'count', /./],
  [{ schedule: '* * * * *', count: 101 }, 'count', /./],
  [{ schedule: '* * * * *', after: 'yesterday' }, 'after', /ISO 8601/],
])('%j is refused naming %s', async (body, field, reason) => {
  const res = await preview(body, 400);
  const errors = (res.body as ApiErrorBody).errors;
  expect(errors).toContainEqual({ field, reason: expect.stringMatching(reason) });
});

test('the same over gRPC, with INVALID_ARGUMENT naming the field', async () => {
  const answer = await grpc.call<PreviewJobResponse>('PreviewJob', {
    schedule: '30 6 * * 1',
    timezone: 'America/New_York',
    count: 2,
    after: '2030-01-01T00:00:00Z',
  });
  expect(answer).toEqual({
    timezone: 'America/New_York',
    instants: [
      { at: '2030-01-07T11:30:00.000Z', local: '2030-01-07T06:30:00-05:00' },
      { at: '2030-01-14T11:30:00.000Z', local: '2030-01-14T06:30:00-05:00' },
    ],
  });
  const failure = await grpc.failure('PreviewJob', { schedule: 'nope' });
  expect(failure.code).toBe(status.INVALID_ARGUMENT);
  expect(failure.errors.map((e) => e.field)).toEqual(['schedule']);
});
