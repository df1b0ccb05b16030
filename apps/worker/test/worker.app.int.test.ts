/**
 * The worker as an application: health, readiness (ZooKeeper session and
 * registration) and metrics, on a real ZooKeeper.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AppConfig } from '@app/common';
import { TestingServer, timing } from '@app/zk/testing';
import { WORKER_SERVICE } from '../src/worker.module';
import { Cluster } from './support/cluster';

let server: TestingServer;
let cluster: Cluster;
let app: INestApplication;

beforeAll(async () => {
  server = await TestingServer.start();
  cluster = await Cluster.create(server);
  app = await cluster.bootWorker('worker-app');
}, timing.ms(60_000));

afterAll(async () => {
  await cluster?.close();
  await server?.close();
}, timing.ms(30_000));

describe('worker application', () => {
  it('is configured as the worker, with its default port', () => {
    expect(app.get(AppConfig).service).toBe('worker');
    expect(WORKER_SERVICE).toEqual({ name: 'worker', defaultHttpPort: 3002 });
  });

  it('answers GET /health/live', async () => {
    const res = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(res.body).toMatchObject({ status: 'ok' });
  });

  it('is ready once registered on a connected session', async () => {
    const res = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      info: { zookeeper: { status: 'up' }, worker: { status: 'up' } },
    });
  });

  it('serves process and worker metrics on GET /metrics', async () => {
    await cluster
      .assign({ type: 'noop', payload: {} }, ['worker-app'])
      .then((task) => cluster.waitForTask(task.id, (r) => r.state === 'succeeded'));
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
    expect(res.text).toMatch(/^zks_worker_tasks_started_total\{type="noop"\} 1$/m);
    expect(res.text).toMatch(/^zks_worker_tasks_succeeded_total\{type="noop"\} 1$/m);
    expect(res.text).toMatch(/^zks_worker_tasks_running 0$/m);
    expect(res.text).toMatch(/^zks_worker_handler_duration_seconds_count\{type="noop"\} 1$/m);
    expect(res.text).toMatch(/^zks_worker_start_lateness_seconds_count 1$/m);
  });

  it('labels tasks of types it has no handler for as "other": the label set stays bounded', async () => {
    for (const type of ['made-up-1', 'made-up-2', 'made-up-3']) {
      const task = await cluster.assign({ type, payload: {} }, ['worker-app']);
      await cluster.waitForTask(task.id, (r) => r.state === 'failed');
    }
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.text).not.toMatch(/made-up/);
    expect(res.text).toMatch(/^zks_worker_tasks_failed_total\{type="other"\} 3$/m);
  });
});
