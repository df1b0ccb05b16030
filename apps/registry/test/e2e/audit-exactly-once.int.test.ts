/**
 * Invariant 5 end to end, with real processes (2 schedulers, 3 workers, 1
 * registry) on one ZooKeeper and a fresh database of the shared PostgreSQL:
 * 500 tasks with failures, retries, timeouts and cancellations, a worker
 * `kill -9` while it runs tasks and a leader `kill -9`. Afterwards every
 * task's audit rows, in seq order, form a valid protocol path ending in its
 * final state, each event once; task_history and the final record agree; the
 * finished tasks have left ZooKeeper and the scheduler answers them from the
 * history in the same shape.
 */
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout } from '@app/contracts';
import type { ClusterView } from '@app/contracts/dto/registry-api';
import type { SubmittedTaskView, TaskView } from '@app/contracts/dto/scheduler-api';
import type { AppProcess } from '../../../../test/support/app-process';
import { LocalCluster } from '../../../../test/support/local-cluster';
import { readAudit, verifyTasks } from '../support/audit-validator';

jest.setTimeout(240_000);

let server: TestingServer;
let cluster: LocalCluster;

beforeAll(async () => {
  server = await TestingServer.start();
  cluster = new LocalCluster({ connectString: server.connectString, sessionTimeoutMs: 2_000 });
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  await server?.close();
});

/** The mix: a tenth of each kind but noop, which is half. */
function taskBody(i: number): Record<string, unknown> {
  switch (i % 10) {
    case 5:
    case 6:
      return { type: 'sleep', payload: { ms: 200 + (i % 7) * 100 }, idempotencyKey: `e2e-${i}` };
    case 7: // times out twice: failed after a retry
      return {
        type: 'sleep',
        payload: { ms: 5_000 },
        timeoutMs: 150,
        retry: { maxAttempts: 2, backoffMs: 100 },
      };
    case 8: // a payload the handler refuses: failed for good, whatever retries remain
      return { type: 'sleep', payload: { ms: -1 }, retry: { maxAttempts: 3, backoffMs: 50 } };
    case 9: // cancelled by request, pending or running
      return { type: 'sleep', payload: { ms: 4_000 } };
    default:
      return { type: 'noop', payload: { i } };
  }
}

test('500 tasks, a worker and a leader killed with kill -9: every transition stored exactly once, in order', async () => {
  // One process at a time, like the other end-to-end tests.
  const first = await cluster.start('scheduler');
  const second = await cluster.start('scheduler');
  const registry = await cluster.start('registry', { REGISTRY_RETENTION_MS: '1500' });
  const workers: AppProcess[] = [];
  for (let i = 0; i < 3; i++)
    workers.push(await cluster.start('worker', { WORKER_CAPACITY: '12' }));
  const api = (): AppProcess => [first, second].find((p) => p.isRunning)!;

  // A cancel in flight to the leader killed below fails with the connection: sent again
  // (to the scheduler still running); a second cancel of a finished task is a 409.
  const cancels: Array<Promise<void>> = [];
  const cancel = async (id: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await cluster.api(api(), 'POST', `/v1/tasks/${id}/cancel`);
        return;
      } catch (error) {
        if (attempt >= 20) throw error;
        await timing.sleep(250);
      }
    }
  };

  const ids: string[] = [];
  for (let batch = 0; batch < 5; batch++) {
    const tasks = Array.from({ length: 100 }, (_, j) => taskBody(batch * 100 + j));
    const res = await cluster.api<{ items: SubmittedTaskView[] }>(
      api(),
      'POST',
      '/v1/tasks/batch',
      { tasks },
    );
    expect(res.status).toBe(202);
    ids.push(...res.body.items.map((t) => t.id));
    for (const [j, task] of res.body.items.entries()) {
      if ((batch * 100 + j) % 10 === 9 && j % 20 < 10) {
        // Half of them at once (pending or just assigned), the other half below (running).
        cancels.push(cancel(task.id));
      }
    }
    if (batch === 1) {
      // kill -9 a worker that runs tasks now (the registry's cluster view says which).
      const view = await timing.waitFor(
        async () => {
          const current = (await cluster.api<ClusterView>(registry, 'GET', '/v1/cluster')).body;
          return current.workers.find((w) => w.running >= 2) ? current : undefined;
        },
        { message: 'a busy worker' },
      );
      const busy = view.workers.reduce((a, b) => (b.running > a.running ? b : a));
      await workers.find((w) => w.memberId === busy.id)!.signal('SIGKILL');
      workers.push(await cluster.start('worker', { WORKER_CAPACITY: '12' }));
    }
    if (batch === 3) {
      const leader = await cluster.leader();
      await leader.signal('SIGKILL');
    }
  }
  for (const [i, id] of ids.entries()) {
    if (i % 10 === 9 && i % 20 >= 10) cancels.push(cancel(id));
  }
  await Promise.all(cancels);

  // Everything ends, is drained, and leaves ZooKeeper (retention 1.5 s).
  const zk = await cluster.zk();
  const databaseUrl = await cluster.databaseUrl();
  await timing.waitFor(
    async () => {
      const { children } = await zk.children(ZkLayout.tasks);
      const outbox = (await zk.exists(ZkLayout.outbox))?.numChildren ?? -1;
      return children.length === 0 && outbox === 0;
    },
    {
      timeoutMs: 120_000,
      intervalMs: 500,
      message: async () =>
        `tasks left: ${(await zk.children(ZkLayout.tasks)).children.length}, outbox: ${(await zk.exists(ZkLayout.outbox))?.numChildren}`,
    },
  );

  const snapshot = await readAudit(databaseUrl);
  const { paths, problems } = verifyTasks(snapshot, ids);
  expect(problems).toEqual([]);
  expect(paths.size).toBe(500);

  // The run had what it was meant to have.
  const finals = [...paths.values()].map((p) => p.final);
  expect(finals.filter((s) => s === 'cancelled').length).toBeGreaterThanOrEqual(40);
  expect(finals.filter((s) => s === 'failed').length).toBeGreaterThanOrEqual(100);
  const retried = [...paths.values()].filter((p) => p.types.includes('task.retry_scheduled'));
  expect(retried.length).toBeGreaterThanOrEqual(40);
  const moved = [...paths.values()].filter((p) => p.types.includes('task.reassigned'));
  expect(moved.length).toBeGreaterThan(0); // the killed worker's tasks
  const types = snapshot.rows.map((r) => r.type);
  expect(types.filter((t) => t === 'leader.elected').length).toBeGreaterThanOrEqual(2);
  expect(types).toContain('worker.left');
  for (const id of ids) expect(snapshot.history.get(id)?.record?.id).toBe(id);

  // The scheduler answers finished tasks from the history, as it did from ZooKeeper.
  for (const id of ids.slice(0, 50)) {
    const res = await cluster.api<TaskView>(api(), 'GET', `/v1/tasks/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe(paths.get(id)!.final);
    expect(res.body.attempt).toBe(paths.get(id)!.assignments);
  }
  const audit = await cluster.api<{ items: Array<{ type: string }> }>(
    registry,
    'GET',
    `/v1/audit?taskId=${ids[0]}`,
  );
  expect(audit.body.items.map((e) => e.type)).toEqual(paths.get(ids[0])!.types);
});
