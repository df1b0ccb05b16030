/**
 * Shutdown: a worker in a child process (the real main.ts) receives SIGTERM
 * while a long task runs; in-process workers check the grace period and the
 * hand-back of tasks that had not started. And the end nobody asked for: a
 * worker killed while its task runs, started again under the same member id.
 */
import { join } from 'node:path';
import { FixtureProcess, TestingServer, timing } from '@app/zk/testing';
import { ZkLayout, type QueueNote, type WorkerInfo } from '@app/contracts';
import { decodeJson, readQueueEntries } from '@app/store';
import { Cluster, workerEnv } from './support/cluster';
import { probe } from './support/test-handlers';

const MAIN = join(__dirname, '..', 'src', 'main.ts');
const SESSION_TIMEOUT_MS = 2_000;

let server: TestingServer;
let cluster: Cluster;
let child: FixtureProcess | undefined;

beforeAll(async () => {
  server = await TestingServer.start();
}, timing.ms(60_000));

afterAll(async () => {
  await server?.close();
}, timing.ms(30_000));

beforeEach(async () => {
  probe.reset();
  cluster = await Cluster.create(server);
});

afterEach(async () => {
  if (child?.isRunning) await child.kill('SIGKILL');
  child = undefined;
  await cluster?.close();
});

/** Tasks the queue hands back to the leader (notes of finished tasks carry them too: left out). */
async function queuedIds(): Promise<string[]> {
  const names = await readQueueEntries(cluster.leader);
  const entries = await Promise.all(names.map((n) => cluster.leader.get(ZkLayout.queueEntry(n))));
  return entries.flatMap(({ data }) => {
    const note = decodeJson<QueueNote>(data);
    const handedBack = (note.tasks ?? []).filter((task) => task.record.state === 'pending');
    return [...note.ids, ...handedBack.map((task) => task.record.id)];
  });
}

/** The real main.ts in a child process, once its member node exists. */
async function spawnWorker(id: string, env: Record<string, string>): Promise<FixtureProcess> {
  const fixture = FixtureProcess.spawn(MAIN, { env });
  child = fixture;
  await timing.waitFor(
    async () => (await cluster.leader.exists(ZkLayout.member('workers', id))) !== null,
    { timeoutMs: 30_000, message: () => `worker never registered; output:\n${fixture.output}` },
  );
  return fixture;
}

describe('worker shutdown', () => {
  test(
    'SIGTERM with a long task: member marked draining, task handed back within the grace, exit 0, member gone',
    async () => {
      const id = 'worker-sigterm';
      const member = ZkLayout.member('workers', id);
      const graceMs = 500;
      const fixture = await spawnWorker(id, {
        ...workerEnv(server, cluster.root, id, { graceMs }),
        LOG_LEVEL: 'info',
      });
      // HTTP_PORT=0: the member data gets the real port once the server listens.
      const info = await timing.waitFor(async () => {
        const data = decodeJson<WorkerInfo>((await cluster.leader.get(member)).data);
        return /:[1-9]\d*$/.test(data.endpoint) ? data : undefined;
      });
      expect(info).toMatchObject({ pid: fixture.pid, capacity: 8, labels: {} });

      const task = await cluster.assign({ type: 'sleep', payload: { ms: 600_000 } }, [id]);
      await cluster.waitForTask(task.id, (r) => r.state === 'running');

      const signalledAt = Date.now();
      const exited = fixture.kill('SIGTERM');
      const draining = await timing.waitFor(
        async () => {
          const node = await cluster.leader.get(member).catch(() => undefined);
          if (node === undefined) throw new Error('member node gone before it was seen draining');
          return decodeJson<WorkerInfo>(node.data).draining === true ? true : undefined;
        },
        { intervalMs: 5 },
      );
      expect(draining).toBe(true);

      const { record } = await cluster.waitForTask(task.id, (r) => r.state === 'pending');
      const handedBackAfter = Date.now() - signalledAt;
      expect(handedBackAfter).toBeGreaterThanOrEqual(graceMs);
      expect(handedBackAfter).toBeLessThan(graceMs + timing.ms(2_000));
      expect(record.workerId).toBeUndefined();
      expect(record.attempt).toBe(1);
      expect(await cluster.assignmentExists(id, task.id)).toBe(false);
      expect(await queuedIds()).toContain(task.id);
      const reassigned = (await cluster.eventsOf(task.id)).filter(
        (e) => e.type === 'task.reassigned',
      );
      expect(reassigned).toHaveLength(1);
      expect(reassigned[0].detail).toMatchObject({
        reason: 'handed back',
        from: id,
        state: 'running',
      });

      expect(await exited).toEqual({ code: 0, signal: null });
      expect(await cluster.leader.exists(member)).toBeNull();
    },
    timing.ms(60_000),
  );

  test('a task that finishes within the grace is reported, not handed back; one not started yet goes back at once', async () => {
    const id = 'worker-grace';
    const app = await cluster.bootWorker(id, { graceMs: 5_000 });
    const [running, later] = await cluster.assignMany(
      [
        { type: 'test.gate', payload: {} },
        { type: 'test.clock', payload: {}, runAt: Date.now() + 60_000 },
      ],
      [id],
    );
    await probe.started(running.id);
    const closed = app.close();
    const back = await cluster.waitForTask(later.id, (r) => r.state === 'pending');
    expect(back.record.workerId).toBeUndefined();
    expect(await cluster.assignmentExists(id, later.id)).toBe(false);

    probe.release(running.id);
    await closed;
    expect((await cluster.task(running.id)).record.state).toBe('succeeded');
    expect(await queuedIds()).toEqual([later.id]);
    expect(await cluster.leader.exists(ZkLayout.member('workers', id))).toBeNull();
  });
});

/**
 * Chaos seed 1967024923: the assignment the leader wrote still carries the
 * record as assigned, but the killed process had already reported `running`
 * on it. The new process's reports are refused (an older version); the
 * leader sees the member live and holding the task, so unless this worker
 * ends the attempt itself nobody ever does.
 */
describe('worker restarted under the same member id', () => {
  test(
    'an attempt the killed process had started is handed back by the new one, not left running forever',
    async () => {
      const id = 'worker-restarted';
      const member = ZkLayout.member('workers', id);
      const fixture = await spawnWorker(
        id,
        workerEnv(server, cluster.root, id, { sessionTimeoutMs: SESSION_TIMEOUT_MS }),
      );
      const task = await cluster.assignAsLeader({ type: 'sleep', payload: { ms: 600_000 } }, [id]);
      const running = await cluster.waitForTask(task.id, (r) => r.state === 'running');
      expect(running.record).toMatchObject({ attempt: 1, workerId: id });

      await fixture.kill('SIGKILL');
      // The old session expires (its member node goes), the assignment stays: no leader runs.
      await timing.waitFor(async () => (await cluster.leader.exists(member)) === null, {
        timeoutMs: 30_000,
      });
      expect(await cluster.assignmentExists(id, task.id)).toBe(true);

      await cluster.bootWorker(id, { sessionTimeoutMs: SESSION_TIMEOUT_MS });

      // Step 9: handed back on the record read now (a compare-and-set), so a leader moves it.
      const after = await cluster.waitForTask(task.id, (r) => r.state === 'pending');
      expect(after.version).toBe(running.version + 1);
      expect(after.record).toMatchObject({ attempt: 1, failures: 0 });
      expect(after.record.workerId).toBeUndefined();
      expect(await cluster.assignmentExists(id, task.id)).toBe(false);
      const events = await cluster.eventsOf(task.id);
      expect(events.at(-1)).toMatchObject({
        type: 'task.reassigned',
        attempt: 1,
        workerId: id,
        detail: { reason: expect.stringContaining('still naming this attempt') },
      });
    },
    timing.ms(90_000),
  );
});
