/**
 * Invariant 6 end to end, with real processes: 10,000 tasks (half with an
 * idempotency key) run to completion; once their history is stored and the
 * retention delay has passed, the znodes under the cluster root are exactly
 * those of before (members, elections, the layout's parents): ZooKeeper's
 * size is bounded by live work, not by history.
 */
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout } from '@app/contracts';
import type { SubmittedTaskView } from '@app/contracts/dto/scheduler-api';
import { LocalCluster } from '../../../../test/support/local-cluster';
import { readAudit } from '../support/audit-validator';

jest.setTimeout(300_000);

const TASKS = 10_000;

let server: TestingServer;
let cluster: LocalCluster;

beforeAll(async () => {
  server = await TestingServer.start({ heapMb: 384 });
  cluster = new LocalCluster({ connectString: server.connectString });
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  await server?.close();
});

test('10,000 tasks run to completion: the znode count returns to its baseline', async () => {
  // One process at a time, like the other end-to-end tests.
  const scheduler = await cluster.start('scheduler');
  const registry = await cluster.start('registry', { REGISTRY_RETENTION_MS: '500' });
  await cluster.start('worker', { WORKER_CAPACITY: '64' });
  await cluster.start('worker', { WORKER_CAPACITY: '64' });
  const zk = await cluster.zk();
  const settled = async (): Promise<boolean> =>
    (await zk.exists(ZkLayout.outbox))?.numChildren === 0 &&
    (await zk.exists(ZkLayout.tasks))?.numChildren === 0 &&
    (await zk.exists(ZkLayout.queue))?.numChildren === 0;
  // The start's own events (leader elected, workers joined) are drained first.
  await timing.waitFor(settled, { message: 'an idle cluster' });
  const baseline = await cluster.znodeCount();

  for (let batch = 0; batch < TASKS / 1_000; batch++) {
    const tasks = Array.from({ length: 1_000 }, (_, i) => ({
      type: 'noop',
      ...(i % 2 === 0 ? { idempotencyKey: `retention-${batch}-${i}` } : {}),
    }));
    const res = await cluster.api<{ items: SubmittedTaskView[] }>(
      scheduler,
      'POST',
      '/v1/tasks/batch',
      { tasks },
    );
    expect(res.status).toBe(202);
  }
  const peak = await cluster.znodeCount();
  expect(peak).toBeGreaterThan(baseline + 1_000);

  await timing.waitFor(settled, {
    timeoutMs: 120_000,
    intervalMs: 500,
    message: async () => {
      const { children } = await zk.children(ZkLayout.tasks);
      const states = new Map<string, number>();
      for (const id of children.slice(0, 200)) {
        const state = (await cluster.task(id))?.state ?? 'gone';
        states.set(state, (states.get(state) ?? 0) + 1);
      }
      return `tasks ${children.length} (of 200: ${JSON.stringify([...states])}), outbox ${
        (await zk.exists(ZkLayout.outbox))?.numChildren
      }; registry:\n${registry.output.slice(-2_000)}\nscheduler:\n${scheduler.output.slice(-4_000)}`;
    },
  });
  await timing.waitFor(async () => (await zk.exists(ZkLayout.idempotencyRoot))?.numChildren === 0, {
    message: 'idempotency nodes retired with their tasks',
  });
  expect(await cluster.znodeCount()).toBe(baseline);

  const snapshot = await readAudit(await cluster.databaseUrl());
  const retired = [...snapshot.history.values()].filter((row) => row.record?.state === 'succeeded');
  expect(retired.length).toBe(TASKS);
});
