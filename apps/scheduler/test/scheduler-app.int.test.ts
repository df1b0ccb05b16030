/**
 * The whole scheduler application (SchedulerModule, prepared as main.ts does)
 * on a real ZooKeeper: its configuration, health, metrics, the API and gRPC in
 * place, and the OpenAPI document describing every route and error.
 */
import request from 'supertest';
import { AppConfig } from '@app/common';
import { TestingServer, timing } from '@app/zk/testing';
import { SchedulerModule, SCHEDULER_SERVICE } from '../src/scheduler.module';
import { SchedulerClient, startApiApp, type ApiApp } from './api/support/api-app';

interface OpenApiOperation {
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface OpenApiDocument {
  info: { title: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
  };
}

let server: TestingServer;
let api: ApiApp;

beforeAll(async () => {
  server = await TestingServer.start();
  api = await startApiApp(server, { module: SchedulerModule, grpc: true });
}, timing.ms(60_000));

afterAll(async () => {
  await api?.close();
  await server?.close();
});

it('is configured as the scheduler, with its default ports', () => {
  expect(api.app.get(AppConfig).service).toBe('scheduler');
  expect(SCHEDULER_SERVICE).toEqual({
    name: 'scheduler',
    defaultHttpPort: 3000,
    defaultGrpcPort: 50051,
  });
});

it('answers GET /health/live, and /health/ready with ZooKeeper up', async () => {
  await request(api.http).get('/health/live').expect(200);
  const ready = await request(api.http).get('/health/ready').expect(200);
  expect(ready.body).toMatchObject({ status: 'ok', info: { zookeeper: { status: 'up' } } });
});

it('serves Prometheus metrics on GET /metrics', async () => {
  const res = await request(api.http).get('/metrics').expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(res.text).toMatch(/^# TYPE process_cpu_user_seconds_total counter$/m);
});

it('serves the API over HTTP and gRPC', async () => {
  const job = await request(api.http)
    .post('/v1/jobs')
    .send({ name: 'app-test', type: 'noop', schedule: '0 0 1 1 *' })
    .expect(201);
  const client = new SchedulerClient(api.grpcPort);
  try {
    expect(await client.call('GetJob', { id: job.body.id })).toMatchObject({ name: 'app-test' });
  } finally {
    client.close();
  }
});

describe('the OpenAPI document', () => {
  let document: OpenApiDocument;

  beforeAll(async () => {
    document = (await request(api.http).get('/docs-json').expect(200)).body as OpenApiDocument;
  });

  it('is served with its UI at /docs', async () => {
    const ui = await request(api.http).get('/docs').redirects(1).expect(200);
    expect(ui.text).toMatch(/swagger-ui/i);
    expect(document.info.title).toMatch(/scheduler/);
  });

  it.each([
    ['/v1/jobs', 'post', 'CreateJobDto', '201'],
    ['/v1/jobs', 'get', undefined, '200'],
    ['/v1/jobs/{id}', 'get', undefined, '200'],
    ['/v1/jobs/{id}', 'patch', 'UpdateJobDto', '200'],
    ['/v1/jobs/{id}', 'delete', undefined, '204'],
    ['/v1/jobs/{id}/trigger', 'post', undefined, '202'],
    ['/v1/tasks', 'post', 'SubmitTaskDto', '202'],
    ['/v1/tasks', 'get', undefined, '200'],
    ['/v1/tasks/batch', 'post', 'SubmitTasksDto', '202'],
    ['/v1/tasks/{id}', 'get', undefined, '200'],
    ['/v1/tasks/{id}/cancel', 'post', undefined, '202'],
  ])('describes %s %s: its body and its answers, errors included', (path, method, body, ok) => {
    const operation = document.paths[path]?.[method];
    expect(operation).toBeDefined();
    if (body) {
      expect(operation.requestBody?.content['application/json'].schema.$ref).toBe(
        `#/components/schemas/${body}`,
      );
    }
    expect(operation.responses[ok]).toBeDefined();
    for (const status of ['400', '503']) {
      expect(operation.responses[status].content?.['application/json'].schema.$ref).toBe(
        '#/components/schemas/ApiErrorBodyDto',
      );
    }
  });

  it('describes the fields of the bodies and the error shape', () => {
    const { schemas } = document.components;
    expect(Object.keys(schemas.CreateJobDto.properties ?? {})).toEqual(
      expect.arrayContaining([
        'name',
        'type',
        'payload',
        'schedule',
        'timezone',
        'runAt',
        'retry',
        'timeoutMs',
        'concurrency',
        'misfire',
        'selector',
        'parallelism',
        'paused',
      ]),
    );
    expect(schemas.CreateJobDto.required).toEqual(expect.arrayContaining(['name', 'type']));
    expect(schemas.ApiErrorBodyDto.required).toEqual(
      expect.arrayContaining(['statusCode', 'error', 'message', 'errors']),
    );
    expect(Object.keys(schemas.FieldErrorDto.properties ?? {})).toEqual(['field', 'reason']);
  });
});
