/**
 * The draining registry `kill -9`'d mid-batch, with real processes: it has
 * committed a batch to PostgreSQL and not yet deleted its outbox nodes (a
 * testing pause, REGISTRY_DRAIN_PAUSE_MS, holds it there). The standby takes
 * over, drains the same nodes again (the store skips them: its duplicate
 * counter shows it) and the rest: nothing lost, nothing doubled.
 */
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout } from '@app/contracts';
import type { SubmittedTaskView } from '@app/contracts/dto/scheduler-api';
import { LocalCluster } from '../../../../test/support/local-cluster';
import { readAudit, verifyTasks } from '../support/audit-validator';

jest.setTimeout(180_000);

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

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

test('the drainer killed between its commit and its delete: the standby takes over, no loss, no duplicates', async () => {
  // One process at a time, like the other end-to-end tests.
  const scheduler = await cluster.start('scheduler');
  await cluster.start('worker', { WORKER_CAPACITY: '16' });
  await cluster.start('worker', { WORKER_CAPACITY: '16' });
  // Slow batches on the first registry: each commit is followed by 1.5 s before the delete.
  const slow = await cluster.start('registry', {
    REGISTRY_DRAIN_PAUSE_MS: '1500',
    REGISTRY_DRAIN_BATCH_NODES: '10',
    REGISTRY_RETENTION_MS: '1000',
  });
  expect((await cluster.drainer()).memberId).toBe(slow.memberId);
  const standby = await cluster.start('registry', { REGISTRY_RETENTION_MS: '1000' });

  const ids: string[] = [];
  for (let batch = 0; batch < 3; batch++) {
    const tasks = Array.from({ length: 100 }, (_, i) =>
      i % 3 === 0 ? { type: 'sleep', payload: { ms: 50 } } : { type: 'noop' },
    );
    const res = await cluster.api<{ items: SubmittedTaskView[] }>(
      scheduler,
      'POST',
      '/v1/tasks/batch',
      { tasks },
    );
    ids.push(...res.body.items.map((t) => t.id));
  }

  // Wait for a commit, then kill at once: inside the pause, before the delete.
  const drained = 'zks_registry_drained_events_total{outcome="new"}';
  const before = await metric(slow.url('/metrics'), drained);
  await timing.waitFor(async () => (await metric(slow.url('/metrics'), drained)) > before, {
    intervalMs: 20,
    message: 'a batch committed',
  });
  await slow.signal('SIGKILL');

  expect((await cluster.drainer()).memberId).toBe(standby.memberId);
  const zk = await cluster.zk();
  await timing.waitFor(
    async () =>
      (await zk.exists(ZkLayout.outbox))?.numChildren === 0 &&
      (await zk.children(ZkLayout.tasks)).children.length === 0,
    { timeoutMs: 60_000, intervalMs: 250, message: 'drained and retired by the standby' },
  );
  // The standby stored again what the killed drainer had committed: skipped as duplicates.
  expect(
    await metric(standby.url('/metrics'), 'zks_registry_drained_events_total{outcome="duplicate"}'),
  ).toBeGreaterThan(0);
  const snapshot = await readAudit(await cluster.databaseUrl());
  const { problems, paths } = verifyTasks(snapshot, ids);
  expect(problems).toEqual([]);
  expect([...paths.values()].every((p) => p.final === 'succeeded')).toBe(true);
});
