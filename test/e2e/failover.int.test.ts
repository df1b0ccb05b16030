import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpProxy, TestingServer, timing } from '@app/zk/testing';
import { readExecutionLogs } from '../chaos/execution-log';
import { LocalCluster } from '../support/local-cluster';

/**
 * The scheduling core across real processes: schedulers and workers are child
 * processes killed for real. ZooKeeper session timeout 2 s.
 */

const SESSION_TIMEOUT_MS = 2_000;
jest.setTimeout(180_000);

let server: TestingServer;
let cluster: LocalCluster;

beforeAll(async () => {
  server = await TestingServer.start();
}, 60_000);

beforeEach(() => {
  cluster = new LocalCluster({
    connectString: server.connectString,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
  });
});

afterEach(async () => {
  await cluster.close();
});

afterAll(async () => {
  await server?.close();
});

test('a cron job every second fires exactly once per instant while the leader is killed with kill -9 three times', async () => {
  const schedulers = [await cluster.start('scheduler'), await cluster.start('scheduler')];
  await cluster.start('worker');
  await cluster.start('worker');
  const created = await cluster.api<{ id: string }>(schedulers[0], 'POST', '/v1/jobs', {
    name: 'every-second',
    type: 'noop',
    schedule: '* * * * * *',
    misfire: 'fire_all',
  });
  expect(created.status).toBe(201);
  const jobId = created.body.id;
  await timing.waitFor(async () => (await cluster.tasksOfJob(jobId)).length >= 3, {
    message: 'first fires',
  });

  for (let kill = 1; kill <= 3; kill++) {
    const leader = await cluster.leader();
    const before = (await cluster.tasksOfJob(jobId)).length;
    await leader.signal('SIGKILL');
    await cluster.start('scheduler'); // keep two replicas
    await timing.waitFor(async () => (await cluster.tasksOfJob(jobId)).length >= before + 4, {
      timeoutMs: 30_000,
      message: `fires resume after leader kill ${kill}`,
    });
  }

  // Once more than 10 fires are older than 3 s and all of those have finished, look at
  // every instant from the first to the last.
  const settledBefore = (tasks: Awaited<ReturnType<typeof cluster.tasksOfJob>>) =>
    tasks.filter((t) => t.fireTime! < Date.now() - 3_000);
  const tasks = await timing.waitFor(
    async () => {
      const all = await cluster.tasksOfJob(jobId);
      const settled = settledBefore(all);
      return settled.length > 10 && settled.every((t) => t.state === 'succeeded') ? all : undefined;
    },
    { message: 'more than 10 fires older than 3 s, all succeeded' },
  );
  const instants = tasks.map((t) => t.fireTime!);
  const gaps = instants
    .slice(1)
    .map((t, i) => t - instants[i])
    .filter((gap) => gap !== 1_000);
  expect(gaps).toEqual([]); // no instant missed, none twice (ids are `<jobId>@<instant>`)
  const settled = settledBefore(tasks);
  expect(settled.length).toBeGreaterThan(10);
  expect(settled.filter((t) => t.state !== 'succeeded')).toEqual([]);
  const createdEvents = (await cluster.auditEvents()).filter(
    (e) => e.type === 'task.created' && e.jobId === jobId,
  );
  expect(createdEvents.map((e) => e.taskId).sort()).toEqual(tasks.map((t) => t.id).sort()); // one creation each
});

test('kill -9 of a worker mid-task: the task completes on another worker with attempt 2', async () => {
  const scheduler = await cluster.start('scheduler');
  const workers = [await cluster.start('worker'), await cluster.start('worker')];
  const submitted = await cluster.api<{ id: string }>(scheduler, 'POST', '/v1/tasks', {
    type: 'sleep',
    payload: { ms: 3_000 },
  });
  expect(submitted.status).toBe(202);
  const taskId = submitted.body.id;
  const running = await cluster.waitForTask(taskId, (t) => t.state === 'running');
  const victim = workers.find((w) => w.memberId === running.workerId)!;
  const survivor = workers.find((w) => w !== victim)!;
  await victim.signal('SIGKILL');
  const done = await cluster.waitForTask(taskId, (t) => t.state === 'succeeded');
  expect(done).toMatchObject({ attempt: 2, workerId: survivor.memberId, failures: 0 });
  const events = (await cluster.auditEvents())
    .filter((e) => e.taskId === taskId)
    .map((e) => e.type);
  expect(events).toEqual([
    'task.created',
    'task.assigned',
    'task.started',
    'task.reassigned',
    'task.assigned',
    'task.started',
    'task.succeeded',
  ]);
});

test('a worker paused past its session timeout: its late report is rejected; the new attempt decides', async () => {
  const scheduler = await cluster.start('scheduler');
  const workers = [await cluster.start('worker'), await cluster.start('worker')];
  const submitted = await cluster.api<{ id: string }>(scheduler, 'POST', '/v1/tasks', {
    type: 'sleep',
    payload: { ms: 2_500 },
  });
  const taskId = submitted.body.id;
  const running = await cluster.waitForTask(taskId, (t) => t.state === 'running');
  const paused = workers.find((w) => w.memberId === running.workerId)!;
  const other = workers.find((w) => w !== paused)!;
  await paused.signal('SIGSTOP');
  // Its session expires; the task moves to the other worker (attempt 2) and runs there.
  await cluster.waitForTask(
    taskId,
    (t) => t.attempt === 2 && t.state === 'running' && t.workerId === other.memberId,
  );
  await paused.signal('SIGCONT'); // its sleep is long over: it tries to report attempt 1
  const done = await cluster.waitForTask(taskId, (t) => t.state === 'succeeded');
  expect(done).toMatchObject({ attempt: 2, workerId: other.memberId });
  // It joins again on a new session only after its old session's requests have failed:
  // by then its report of attempt 1 was refused, or dropped with that session.
  await timing.waitFor(
    async () => {
      const events = (await cluster.auditEvents()).filter((e) => e.workerId === paused.memberId);
      const left = events.findIndex((e) => e.type === 'worker.left');
      return left >= 0 && events.slice(left).some((e) => e.type === 'worker.joined');
    },
    { timeoutMs: 20_000, message: 'the paused worker joins again' },
  );
  expect(await cluster.task(taskId)).toMatchObject({
    attempt: 2,
    workerId: other.memberId,
    state: 'succeeded',
  });
  const outcomes = (await cluster.auditEvents()).filter(
    (e) => e.taskId === taskId && (e.type === 'task.succeeded' || e.type === 'task.failed'),
  );
  expect(outcomes.map((e) => [e.workerId, e.attempt])).toEqual([[other.memberId, 2]]);
  // The zombie worker is a fresh member again, ready for new work.
  await paused.waitUntilReady();
});

test('a worker cut off ZooKeeper one way (its requests held) aborts its handler on its own before the next attempt starts', async () => {
  // The chaos worker: the real worker plus a handler that logs its start and end.
  const logDir = mkdtempSync(join(tmpdir(), 'zks-cut-off-'));
  const proxy = new TcpProxy(server.port);
  await proxy.start();
  await cluster.close();
  cluster = new LocalCluster({
    connectString: server.connectString,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    entries: { worker: join(__dirname, '..', 'chaos', 'worker', 'main.ts') },
  });
  try {
    const scheduler = await cluster.start('scheduler');
    const env = { CHAOS_EXEC_LOG_DIR: logDir };
    const victim = await cluster.start('worker', { ...env, ZK_CONNECT: proxy.connectString });
    const submitted = await cluster.api<{ id: string }>(scheduler, 'POST', '/v1/tasks', {
      type: 'chaos.work',
      payload: { ms: 20_000, failAttempts: 0 },
    });
    const taskId = submitted.body.id;
    await cluster.waitForTask(taskId, (t) => t.state === 'running');
    const other = await cluster.start('worker', env);
    proxy.setUpstream('hold');
    const next = await cluster.waitForTask(
      taskId,
      (t) => t.attempt === 2 && t.state === 'running' && t.workerId === other.memberId,
      30_000,
    );
    expect(next.attempt).toBe(2);
    const logOf = () => readExecutionLogs(logDir).filter((line) => line.taskId === taskId);
    const restarted = await timing.waitFor(
      () => logOf().find((l) => l.attempt === 2 && l.event === 'start'),
      { message: 'attempt 2 started its handler' },
    );
    const stopped = logOf().find((l) => l.attempt === 1 && l.event !== 'start');
    // The cut-off worker stopped attempt 1 on its own, before attempt 2 started elsewhere.
    expect(stopped).toMatchObject({ event: 'aborted', worker: victim.memberId });
    expect(stopped!.at).toBeLessThanOrEqual(restarted.at);
    proxy.heal();
    await victim.waitUntilReady(30_000);
  } finally {
    await proxy.close();
    rmSync(logDir, { recursive: true, force: true });
  }
});
