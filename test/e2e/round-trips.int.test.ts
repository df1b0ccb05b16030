import { TestingServer, timing } from '@app/zk/testing';
import type { AppProcess } from '../support/app-process';
import { LocalCluster } from '../support/local-cluster';

/**
 * ZooKeeper round trips per task (docs/task-protocol.md, "Notes carry
 * records"): a burst of no-op tasks through real processes, counted by each
 * process's own `zks_zookeeper_requests_total`. The records travel in notes,
 * so the leader reads no task and a worker no assignment one by one: requests
 * are per batch. The bounds sit far above what batching gives (about 0.1 per
 * task in bench:e2e) and far below one read per task (the protocol without
 * notes cost more than 3), so the test tells the two apart on any machine.
 */

jest.setTimeout(180_000);

const TASKS = 2_000;
const BATCH = 500;

let server: TestingServer;
let cluster: LocalCluster;
let scheduler: AppProcess;
let workers: AppProcess[];

beforeAll(async () => {
  server = await TestingServer.start();
  cluster = new LocalCluster({ connectString: server.connectString });
  scheduler = await cluster.start('scheduler');
  await cluster.leader(60_000);
  workers = await Promise.all(
    [1, 2].map(() => cluster.start('worker', { WORKER_CAPACITY: '256' })),
  );
}, 180_000);

afterAll(async () => {
  await cluster?.close();
  await server?.close();
});

/** The process's ZooKeeper requests so far, by operation. */
async function requestsOf(process: AppProcess): Promise<Map<string, number>> {
  const text = await (await fetch(process.url('/metrics'))).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^zks_zookeeper_requests_total\{op="(\w+)"\} (\d+)$/gm)) {
    counts.set(match[1], Number(match[2]));
  }
  return counts;
}

function sum(counts: Map<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

function minus(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([op, n]) => [op, n - (before.get(op) ?? 0)]));
}

async function succeededCount(): Promise<number> {
  const texts = await Promise.all(
    workers.map(async (w) => (await fetch(w.url('/metrics'))).text()),
  );
  let total = 0;
  for (const text of texts) {
    for (const match of text.matchAll(/^zks_worker_tasks_succeeded_total(?:\{[^}]*\})? (\d+)$/gm)) {
      total += Number(match[1]);
    }
  }
  return total;
}

test('a burst of tasks costs requests per batch, not per task: no task or assignment is read one by one', async () => {
  const processes = [scheduler, ...workers];
  const before = await Promise.all(processes.map(requestsOf));
  const done = await succeededCount();
  for (let i = 0; i < TASKS; i += BATCH) {
    const tasks = Array.from({ length: BATCH }, () => ({ type: 'noop', payload: {} }));
    const response = await cluster.api(scheduler, 'POST', '/v1/tasks/batch', { tasks });
    expect(response.status).toBe(202);
  }
  await timing.waitFor(async () => ((await succeededCount()) >= done + TASKS ? true : undefined), {
    timeoutMs: 120_000,
    message: async () => `${(await succeededCount()) - done} of ${TASKS} tasks succeeded`,
  });
  const after = await Promise.all(processes.map(requestsOf));
  const spent = processes.map((_, i) => minus(after[i], before[i]));
  const perTask = (n: number): number => Math.round((n / TASKS) * 1000) / 1000;
  const measured = {
    leaderGets: perTask(spent[0].get('get') ?? 0),
    workerGets: Math.max(...spent.slice(1).map((counts) => perTask(counts.get('get') ?? 0))),
    // Everything, the API's own writes and the workers' finishes included.
    all: perTask(spent.reduce((total, counts) => total + sum(counts), 0)),
  };
  const byProcess = processes.map((p, i) => `${p.memberId}: ${JSON.stringify([...spent[i]])}`);
  // Reads by the leader (queue notes) and by the workers (assignment notes) are per batch.
  const bounds = { leaderGets: 0.25, workerGets: 0.25, all: 1 };
  const over = (Object.keys(bounds) as Array<keyof typeof bounds>)
    .filter((key) => !(measured[key] < bounds[key]))
    .map(
      (key) => `${key} ${measured[key]} per task, bound ${bounds[key]}; ${byProcess.join('; ')}`,
    );
  expect(over).toEqual([]);
});
