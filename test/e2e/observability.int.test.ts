import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestingServer, timing } from '@app/zk/testing';
import type { AppProcess } from '../support/app-process';
import { LocalCluster } from '../support/local-cluster';
import { sampleValue, scrape, type Sample } from '../support/prometheus';

/**
 * Metrics, health and logs of real processes (docs/operations.md): a
 * scheduler, a worker and a registry run a one-off task and a cron job's fires;
 * then each `/metrics` must carry the documented metrics with values that match
 * what happened, and readiness must follow ZooKeeper going away and coming back.
 */

jest.setTimeout(120_000);

let server: TestingServer;
let cluster: LocalCluster;
let scheduler: AppProcess;
let worker: AppProcess;
let registry: AppProcess;

beforeAll(async () => {
  server = await TestingServer.start();
  cluster = new LocalCluster({ connectString: server.connectString });
  [scheduler, worker, registry] = await Promise.all([
    cluster.start('scheduler'),
    // The logs.compress test below works in a temporary folder.
    cluster.start('worker', { WORKER_CAPACITY: '2', WORKER_LOGS_ROOTS: tmpdir() }),
    cluster.start('registry'),
  ]);
  await cluster.leader();
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await server?.close();
});

const UNFINISHED = ['pending', 'assigned', 'running', 'retrying'];

const metrics = (process: AppProcess): Promise<Sample[]> => scrape(process.url('/metrics'));

test('every service exposes its metrics with values that follow a task and a cron job', async () => {
  const task = await cluster.api<{ id: string }>(scheduler, 'POST', '/v1/tasks', {
    type: 'noop',
    payload: {},
  });
  expect(task.status).toBe(202);
  const job = await cluster.api<{ id: string }>(scheduler, 'POST', '/v1/jobs', {
    name: 'observability-every-second',
    type: 'noop',
    payload: {},
    schedule: '* * * * * *',
  });
  expect(job.status).toBe(201);
  await cluster.waitForTask(task.body.id, (t) => t.state === 'succeeded');
  await timing.waitFor(
    async () =>
      (await cluster.tasksOfJob(job.body.id)).filter((t) => t.state === 'succeeded').length >= 2,
    { timeoutMs: 20_000, message: 'two fires of the cron job did not succeed' },
  );
  expect((await cluster.api(scheduler, 'DELETE', `/v1/jobs/${job.body.id}`)).status).toBe(204);

  // Everything finished (the job's fires ahead of time cancelled with it): no unfinished task is left.
  const s = await timing.waitFor(
    async () => {
      const samples = await metrics(scheduler);
      const counts = UNFINISHED.map((state) =>
        sampleValue(samples, 'zks_scheduler_tasks', { state }),
      );
      return counts.every((count) => count === 0) ? samples : undefined;
    },
    { message: 'zks_scheduler_tasks did not fall to 0 in every unfinished state' },
  );
  expect(sampleValue(s, 'zks_scheduler_is_leader')).toBe(1);
  expect(sampleValue(s, 'zks_scheduler_workers_live')).toBe(1);
  expect(sampleValue(s, 'zks_scheduler_queue_depth')).toBe(0);
  expect(sampleValue(s, 'zks_scheduler_fires_total')).toBeGreaterThanOrEqual(2);
  expect(sampleValue(s, 'zks_scheduler_fire_lateness_seconds_count')).toBeGreaterThanOrEqual(2);
  // The one-off task and at least two fires were assigned.
  expect(sampleValue(s, 'zks_scheduler_assignments_total')).toBeGreaterThanOrEqual(3);
  expect(sampleValue(s, 'zks_scheduler_assignment_latency_seconds_count')).toBeGreaterThanOrEqual(
    3,
  );
  expect(sampleValue(s, 'zks_scheduler_reassignments_total')).toBe(0);

  const w = await metrics(worker);
  expect(
    sampleValue(w, 'zks_worker_tasks_succeeded_total', { type: 'noop' }),
  ).toBeGreaterThanOrEqual(3);
  expect(sampleValue(w, 'zks_worker_start_lateness_seconds_count')).toBeGreaterThanOrEqual(3);
  await timing.waitFor(
    async () => sampleValue(await metrics(worker), 'zks_worker_tasks_running') === 0,
    { message: 'zks_worker_tasks_running did not fall to 0' },
  );

  await cluster.drainer();
  await timing.waitFor(
    async () =>
      sampleValue(await metrics(registry), 'zks_registry_drained_events_total', {
        outcome: 'new',
      }) > 0,
    { timeoutMs: 15_000, message: 'the registry drained nothing' },
  );
  // Nothing writes any more: the drain empties the outbox.
  const r = await timing.waitFor(
    async () => {
      const samples = await metrics(registry);
      return sampleValue(samples, 'zks_registry_outbox_depth') === 0 ? samples : undefined;
    },
    { timeoutMs: 15_000, message: 'zks_registry_outbox_depth did not fall to 0' },
  );
  expect(sampleValue(r, 'zks_registry_is_drainer')).toBe(1);
  expect(sampleValue(r, 'zks_registry_drain_batch_duration_seconds_count')).toBeGreaterThan(0);

  for (const samples of [s, w, r]) {
    expect(sampleValue(samples, 'zks_zookeeper_connected')).toBe(1);
    expect(sampleValue(samples, 'zks_zookeeper_connection_state', { state: 'connected' })).toBe(1);
    expect(sampleValue(samples, 'zks_zookeeper_connection_state', { state: 'suspended' })).toBe(0);
    expect(sampleValue(samples, 'zks_zookeeper_session_events_total', { event: 'connected' })).toBe(
      1,
    );
    expect(
      sampleValue(samples, 'zks_zookeeper_operation_duration_seconds_count', {
        operation: 'get',
        outcome: 'ok',
      }),
    ).toBeGreaterThan(0);
    expect(
      sampleValue(samples, 'zks_zookeeper_operation_duration_seconds_count', {
        operation: 'multi',
        outcome: 'ok',
      }),
    ).toBeGreaterThan(0);
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  }
});

test('handler log lines are JSON carrying the task id, job id, attempt and worker id', async () => {
  const job = await cluster.api<{ id: string }>(scheduler, 'POST', '/v1/jobs', {
    name: 'observability-logs',
    type: 'logs.compress',
    payload: {
      directory: await mkdtemp(join(tmpdir(), 'zks-observability-')),
      olderThanMinutes: 60,
    },
    runAt: new Date(Date.now() + 200).toISOString(),
  });
  expect(job.status).toBe(201);
  const [fired] = await timing.waitFor(
    async () => {
      const tasks = await cluster.tasksOfJob(job.body.id);
      return tasks.some((t) => t.finishedAt !== undefined) ? tasks : undefined;
    },
    { timeoutMs: 20_000, message: 'the job did not fire' },
  );
  const lines = worker.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.taskId === fired.id);
  expect(lines.length).toBeGreaterThan(0);
  expect(lines[0]).toMatchObject({
    taskId: fired.id,
    jobId: job.body.id,
    attempt: 1,
    workerId: worker.memberId,
    service: 'worker',
    memberId: worker.memberId,
  });
});

test('health: live stays up; ready follows ZooKeeper away and back', async () => {
  const status = async (process: AppProcess, path: string): Promise<number> =>
    (await fetch(process.url(path))).status;
  for (const process of [scheduler, worker, registry]) {
    expect(await status(process, '/health/live')).toBe(200);
    expect(await status(process, '/health/ready')).toBe(200);
  }
  await server.stop();
  try {
    for (const process of [scheduler, worker, registry]) {
      await timing.waitFor(async () => (await status(process, '/health/ready')) === 503, {
        timeoutMs: 10_000,
        message: `${process.memberId} stayed ready without ZooKeeper`,
      });
      expect(await status(process, '/health/live')).toBe(200);
      expect(sampleValue(await metrics(process), 'zks_zookeeper_connected')).toBe(0);
    }
  } finally {
    await server.restart();
  }
  for (const process of [scheduler, worker, registry]) {
    await timing.waitFor(async () => (await status(process, '/health/ready')) === 200, {
      timeoutMs: 30_000,
      message: `${process.memberId} not ready again after ZooKeeper came back`,
    });
  }
});
