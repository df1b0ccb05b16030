/**
 * PostgreSQL stopped for 30 s in the middle of a run (a throwaway cluster, so
 * the shared server is not touched), with real processes: the scheduler and
 * the workers go on, events wait in the outbox (its depth grows, the registry
 * warns), and once PostgreSQL is back every event arrives, none twice, and the
 * outbox drains to zero. Meanwhile the scheduler still serves live tasks.
 */
import { TestingServer, timing } from '@app/zk/testing';
import { TestingPostgres } from '@app/audit/testing';
import { ZkLayout } from '@app/contracts';
import type { SubmittedTaskView, TaskView } from '@app/contracts/dto/scheduler-api';
import { LocalCluster } from '../../../../test/support/local-cluster';
import { readAudit, verifyTasks } from '../support/audit-validator';

jest.setTimeout(240_000);

const OUTAGE_MS = 30_000;

let server: TestingServer;
let postgres: TestingPostgres;
let cluster: LocalCluster;

beforeAll(async () => {
  [server, postgres] = await Promise.all([TestingServer.start(), TestingPostgres.start()]);
  cluster = new LocalCluster({
    connectString: server.connectString,
    databaseUrl: await postgres.createDatabase('outage'),
  });
}, 90_000);

afterAll(async () => {
  await cluster?.close();
  await postgres?.close();
  await server?.close();
});

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

test('PostgreSQL down for 30 s mid-run: events wait in ZooKeeper, then every one arrives once', async () => {
  // One process at a time, like the other end-to-end tests.
  const scheduler = await cluster.start('scheduler');
  const registry = await cluster.start('registry', {
    REGISTRY_RETENTION_MS: '1000',
    REGISTRY_OUTBOX_WARN_DEPTH: '20',
  });
  await cluster.start('worker', { WORKER_CAPACITY: '16' });
  await cluster.start('worker', { WORKER_CAPACITY: '16' });
  const zk = await cluster.zk();
  const depth = async (): Promise<number> => (await zk.exists(ZkLayout.outbox))?.numChildren ?? 0;
  const ids: string[] = [];
  const submit = async (count: number): Promise<string[]> => {
    const tasks = Array.from({ length: count }, (_, i) =>
      i % 4 === 0 ? { type: 'sleep', payload: { ms: 100 } } : { type: 'noop' },
    );
    const res = await cluster.api<{ items: SubmittedTaskView[] }>(
      scheduler,
      'POST',
      '/v1/tasks/batch',
      { tasks },
    );
    expect(res.status).toBe(202);
    const batch = res.body.items.map((t) => t.id);
    ids.push(...batch);
    return batch;
  };

  await submit(100);
  await timing.waitFor(
    async () => (await depth()) === 0 && (await zk.children(ZkLayout.tasks)).children.length === 0,
    {
      timeoutMs: 30_000,
      message: 'first tasks stored and retired',
    },
  );

  await postgres.stop();
  const stoppedAt = Date.now();
  let live: string | undefined;
  const depths: number[] = [];
  while (Date.now() - stoppedAt < OUTAGE_MS) {
    const batch = await submit(40);
    live ??= batch[0];
    depths.push(await depth());
    await timing.sleep(3_000);
  }
  // Nothing was drained: the depth only grew, and the registry says so (metric and warning).
  expect(depths.every((d, i) => i === 0 || d >= depths[i - 1])).toBe(true);
  expect(depths[depths.length - 1]).toBeGreaterThan(20);
  await timing.waitFor(
    async () => (await metric(registry.url('/metrics'), 'zks_registry_outbox_depth')) > 20,
    { message: 'depth metric' },
  );
  expect(registry.output).toMatch(/audit outbox is deep/);
  // The scheduler serves live tasks without PostgreSQL.
  const task = await cluster.api<TaskView>(scheduler, 'GET', `/v1/tasks/${live!}`);
  expect(task.status).toBe(200);
  // Every event written during the outage is in the outbox now.
  const waiting = await cluster.auditEvents();
  expect(waiting.length).toBeGreaterThan(400);

  await postgres.start();
  await timing.waitFor(
    async () => (await depth()) === 0 && (await zk.children(ZkLayout.tasks)).children.length === 0,
    { timeoutMs: 60_000, intervalMs: 250, message: async () => `outbox ${await depth()}` },
  );
  const snapshot = await readAudit(await cluster.databaseUrl());
  const stored = new Map(snapshot.rows.map((row) => [row.id, row]));
  expect(waiting.filter((event) => !stored.has(event.id))).toEqual([]);
  const { problems, paths } = verifyTasks(snapshot, ids);
  expect(problems).toEqual([]);
  expect([...paths.values()].every((p) => p.final === 'succeeded')).toBe(true);
  expect(await metric(registry.url('/metrics'), 'zks_registry_outbox_depth')).toBe(0);
});
