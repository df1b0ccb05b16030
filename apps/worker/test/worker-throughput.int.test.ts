/**
 * Throughput and timing of one worker (printed, not asserted: the machine is
 * shared): 2,000 no-op tasks assigned in bulk, and the start lateness of
 * tasks given ahead of their runAt.
 */
import { TestingServer, timing } from '@app/zk/testing';
import { ZkLayout, type TaskRecord } from '@app/contracts';
import { decodeJson, type TaskSubmission } from '@app/store';
import { Cluster } from './support/cluster';

const W = 'worker-bench';
const BATCH = 250;

let server: TestingServer;
let cluster: Cluster;

beforeAll(async () => {
  server = await TestingServer.start();
}, timing.ms(60_000));

afterAll(async () => {
  await server?.close();
}, timing.ms(30_000));

beforeEach(async () => {
  cluster = await Cluster.create(server);
});

afterEach(async () => {
  await cluster?.close();
});

async function assignInBatches(submissions: TaskSubmission[]): Promise<TaskRecord[]> {
  const records: TaskRecord[] = [];
  for (let i = 0; i < submissions.length; i += BATCH) {
    records.push(...(await cluster.assignMany(submissions.slice(i, i + BATCH), [W])));
  }
  return records;
}

async function inboxEmpty(): Promise<true | undefined> {
  const { children } = await cluster.leader.children(ZkLayout.assignments(W));
  return children.length === 0 ? true : undefined;
}

async function records(ids: readonly string[]): Promise<TaskRecord[]> {
  const nodes = await Promise.all(ids.map((id) => cluster.leader.get(ZkLayout.task(id))));
  return nodes.map(({ data }) => decodeJson<TaskRecord>(data));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

describe('worker throughput', () => {
  test(
    '2,000 no-op tasks assigned in bulk all succeed (tasks/s printed)',
    async () => {
      await cluster.bootWorker(W, { capacity: 1_024 });
      const count = 2_000;
      const started = performance.now();
      const tasks = await assignInBatches(
        Array.from({ length: count }, () => ({ type: 'noop', payload: {} })),
      );
      const assigned = performance.now();
      await timing.waitFor(inboxEmpty, { timeoutMs: 60_000, intervalMs: 5 });
      const done = performance.now();
      const states = (await records(tasks.map((t) => t.id))).map((r) => r.state);
      expect(states.filter((s) => s === 'succeeded')).toHaveLength(count);
      const outbox = await cluster.outbox();
      const times = outbox.flat().map((e) => e.time);
      const engineMs = Math.max(...times) - Math.min(...times);
      console.log(
        `${count} noop tasks (test and worker share this process): assigned in ` +
          `${(assigned - started).toFixed(0)} ms, all succeeded after ${(done - started).toFixed(0)} ms ` +
          `→ ${(count / ((done - started) / 1000)).toFixed(0)} tasks/s end to end, ` +
          `${(done - assigned).toFixed(0)} ms after the last batch; first start → last outcome ` +
          `${engineMs} ms (${(count / (engineMs / 1000)).toFixed(0)} tasks/s); ` +
          `${outbox.length} worker transactions (${(count / outbox.length).toFixed(1)} tasks each)`,
      );
    },
    timing.ms(120_000),
  );

  test('start lateness of 300 tasks given ahead of time (distribution printed)', async () => {
    await cluster.bootWorker(W, { capacity: 1_024 });
    const base = Date.now() + 1_000;
    const tasks = await assignInBatches(
      Array.from({ length: 300 }, (_, i) => ({
        type: 'noop',
        payload: {},
        runAt: base + Math.floor(i / 3) * 10, // three tasks every 10 ms for 1 s
      })),
    );
    await timing.waitFor(inboxEmpty, { timeoutMs: 30_000, intervalMs: 10 });
    const lateness = (await records(tasks.map((t) => t.id)))
      .map((r) => r.startedAt! - r.runAt)
      .sort((a, b) => a - b);
    expect(lateness[0]).toBeGreaterThanOrEqual(0);
    console.log(
      `start lateness over ${lateness.length} tasks (ms): p50 ${percentile(lateness, 50)}, ` +
        `p90 ${percentile(lateness, 90)}, p99 ${percentile(lateness, 99)}, max ${lateness.at(-1)}`,
    );
  });
});
