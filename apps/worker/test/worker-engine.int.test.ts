/**
 * The worker's execution engine against a real ZooKeeper, one worker
 * application in this process per test (fresh ZK_ROOT). The test plays the
 * leader: it writes task records and assignments exactly as protocol step 2
 * (and step 5 for retries) does, and reads what the worker wrote.
 */
import { Registry } from 'prom-client';
import { ACL, Id, Permission, createClient } from 'node-zookeeper-client';
import { ZkClient } from '@app/zk';
import { expireSession, TestingServer, timing } from '@app/zk/testing';
import { Op } from '@app/zk';
import { ZkLayout, type TaskRecord, type WorkerInfo } from '@app/contracts';
import {
  TaskWrites,
  WriteBatcher,
  decodeJson,
  encodeJson,
  newTaskRecord,
  toAssigned,
  toPending,
} from '@app/store';
import { Cluster } from './support/cluster';
import { probe } from './support/test-handlers';

const W = 'worker-1';

let server: TestingServer;
let cluster: Cluster;

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
  await cluster?.close();
});

describe('worker execution engine', () => {
  test('a noop task runs and succeeds in one write: started + succeeded in one outbox node, assignment deleted', async () => {
    await cluster.bootWorker(W);
    const task = await cluster.assign({ type: 'noop', payload: {} }, [W]);

    const { record, version } = await cluster.waitForTask(task.id, (r) => r.state === 'succeeded');
    expect(version).toBe(1); // one set on the version the test created
    expect(record).toMatchObject({ state: 'succeeded', attempt: 1, workerId: W, result: {} });
    expect(record.startedAt).toBeGreaterThanOrEqual(task.runAt);
    expect(record.finishedAt).toBeGreaterThanOrEqual(record.startedAt!);
    expect(await cluster.assignmentExists(W, task.id)).toBe(false);
    const outbox = await cluster.outbox();
    expect(outbox).toHaveLength(1);
    expect(outbox[0].map((e) => e.type)).toEqual(['task.started', 'task.succeeded']);
    expect(outbox[0][1]).toMatchObject({
      taskId: task.id,
      workerId: W,
      attempt: 1,
      actor: expect.stringMatching(/^worker\/worker-1\/\d+$/),
    });
  });

  test('a failing handler: retrying with failures and retryAt, then failed once attempts are exhausted', async () => {
    await cluster.bootWorker(W);
    const task = await cluster.assign(
      { type: 'test.fail', payload: {}, retry: { maxAttempts: 2, backoffMs: 5_000 } },
      [W],
    );

    const first = await cluster.waitForTask(task.id, (r) => r.state === 'retrying');
    expect(first.record).toMatchObject({
      failures: 1,
      error: { code: 'handler', message: 'deliberate failure' },
    });
    // backoffMs × 2^(failures before this one) after the failure.
    expect(first.record.retryAt! - first.record.startedAt!).toBeGreaterThanOrEqual(5_000);
    expect(first.record.retryAt! - Date.now()).toBeLessThanOrEqual(5_000);
    expect(first.record.finishedAt).toBeUndefined();
    expect(await cluster.assignmentExists(W, task.id)).toBe(false);

    await cluster.reassign(task.id, [W]); // step 5, attempt 2
    const second = await cluster.waitForTask(task.id, (r) => r.state === 'failed');
    expect(second.record).toMatchObject({ attempt: 2, failures: 2, error: { code: 'handler' } });
    expect(second.record.finishedAt).toBeDefined();
    expect(second.record.retryAt).toBeUndefined();
    expect((await cluster.eventsOf(task.id)).map((e) => `${e.type}#${e.attempt}`)).toEqual([
      'task.started#1',
      'task.failed#1',
      'task.retry_scheduled#1',
      'task.started#2',
      'task.failed#2',
    ]);
  });

  test('a timeout aborts the handler (reason timeout) and fails the attempt with code timeout', async () => {
    await cluster.bootWorker(W);
    const retried = await cluster.assign(
      { type: 'test.hang', payload: {}, timeoutMs: 300, retry: { maxAttempts: 2, backoffMs: 100 } },
      [W],
    );
    const started = await probe.started(retried.id);
    const aborted = await probe.aborted(retried.id);
    expect(aborted.reason).toBe('timeout');
    expect(aborted.at - started.at).toBeGreaterThanOrEqual(290);
    const { record } = await cluster.waitForTask(retried.id, (r) => r.state === 'retrying');
    expect(record.error).toMatchObject({ code: 'timeout', message: 'timed out after 300 ms' });
    const events = (await cluster.eventsOf(retried.id)).map((e) => e.type);
    expect(events).toEqual(['task.started', 'task.timed_out', 'task.retry_scheduled']);

    const last = await cluster.assign({ type: 'test.hang', payload: {}, timeoutMs: 200 }, [W]);
    expect((await probe.aborted(last.id)).reason).toBe('timeout');
    const failed = await cluster.waitForTask(last.id, (r) => r.state === 'failed');
    expect(failed.record).toMatchObject({ failures: 1, error: { code: 'timeout' } });
    expect(await cluster.assignmentExists(W, last.id)).toBe(false);
  });

  test('cancellation: the assignment vanishes, the handler is aborted (cancelled), nothing the worker writes lands', async () => {
    await cluster.bootWorker(W);
    const task = await cluster.assign({ type: 'test.hang', payload: {} }, [W]);
    await probe.started(task.id);
    const running = await cluster.waitForTask(task.id, (r) => r.state === 'running');

    // Step 8, as the API does it: cancelled at the version read, assignment deleted.
    await cluster.leader.multi([
      Op.set(
        ZkLayout.task(task.id),
        encodeJson({ ...running.record, state: 'cancelled', finishedAt: Date.now() }),
        running.version,
      ),
      Op.delete(ZkLayout.assignment(W, task.id)),
    ]);
    expect((await probe.aborted(task.id)).reason).toBe('cancelled');
    await timing.sleep(200); // pacing: a late write would land within this
    const after = await cluster.task(task.id);
    expect(after.version).toBe(running.version + 1);
    expect(after.record.state).toBe('cancelled');
    expect((await cluster.eventsOf(task.id)).map((e) => e.type)).toEqual(['task.started']);
  });

  test('runAt in the future: the task starts at its instant, within a few ms', async () => {
    await cluster.bootWorker(W);
    const base = Date.now() + 400;
    const tasks = await cluster.assignMany(
      [0, 50, 120, 300].map((offset) => ({
        type: 'test.clock',
        payload: {},
        runAt: base + offset,
      })),
      [W],
    );
    const lateness: number[] = [];
    for (const task of tasks) {
      const started = await probe.started(task.id);
      lateness.push(started.at - task.runAt);
      const { record } = await cluster.waitForTask(task.id, (r) => r.state === 'succeeded');
      expect(record.startedAt! - task.runAt).toBeGreaterThanOrEqual(0);
    }
    console.log(`start lateness (ms) of tasks given ahead of time: ${lateness.join(', ')}`);
    for (const late of lateness) {
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThanOrEqual(timing.ms(15));
    }
  });

  test('a stale version that still names this attempt here: the report is rejected, the attempt handed back, the handler not run again', async () => {
    await cluster.bootWorker(W);
    const task = await cluster.assign({ type: 'test.gate', payload: {} }, [W]);
    await probe.started(task.id);
    const running = await cluster.waitForTask(task.id, (r) => r.state === 'running');
    // Written meanwhile (same content, version + 1): only this worker's own attempt could
    // have done it (a process killed earlier with this member id). Nobody else would
    // ever end the attempt, so the worker hands it back on the record read now.
    await cluster.leader.set(ZkLayout.task(task.id), encodeJson(running.record), running.version);

    probe.release(task.id);
    const after = await cluster.waitForTask(task.id, (r) => r.state === 'pending');
    expect(after.version).toBe(running.version + 2);
    expect(after.record).toMatchObject({ attempt: 1, failures: 0 });
    expect(after.record.result).toBeUndefined();
    expect(await cluster.assignmentExists(W, task.id)).toBe(false);
    expect((await cluster.eventsOf(task.id)).map((e) => e.type)).toEqual([
      'task.started',
      'task.reassigned',
    ]);
    expect(probe.events.drain().filter((e) => e.type === 'started')).toEqual([]);
  });

  test('session expiry while running: handler aborted (session_lost), no late report, member registered again, the attempt handed back', async () => {
    const app = await cluster.bootWorker(W, { sessionTimeoutMs: 2_000 });
    const client = app.get(ZkClient);
    const member = ZkLayout.member('workers', W);
    const before = (await cluster.leader.get(member)).stat.ephemeralOwner;
    const task = await cluster.assign({ type: 'test.hang', payload: {} }, [W]);
    await probe.started(task.id);
    const running = await cluster.waitForTask(task.id, (r) => r.state === 'running');

    await expireSession(server.connectString, client.sessionCredentials());
    expect((await probe.aborted(task.id)).reason).toBe('session_lost');
    const owner = await timing.waitFor(async () => {
      const stat = await cluster.leader.exists(member);
      return stat !== null && stat.ephemeralOwner !== before ? stat.ephemeralOwner : undefined;
    });
    expect(owner).toBe(client.sessionInfo?.sessionId);
    const info = decodeJson<WorkerInfo>((await cluster.leader.get(member)).data);
    expect(info).toMatchObject({ capacity: 8, pid: process.pid });

    // Re-listed on the new session, the given-up attempt is handed back (step 9), not run
    // again and not reported: a leader elected meanwhile could not tell it was given up.
    const after = await cluster.waitForTask(task.id, (r) => r.state === 'pending');
    expect(after.version).toBe(running.version + 1);
    expect(after.record).toMatchObject({ attempt: 1, failures: 0 });
    expect(after.record.workerId).toBeUndefined();
    expect(await cluster.assignmentExists(W, task.id)).toBe(false);
    const events = await cluster.eventsOf(task.id);
    expect(events.map((e) => [e.type, e.attempt, e.workerId])).toEqual([
      ['task.started', 1, W],
      ['task.reassigned', 1, W],
    ]);
    expect(events[1].detail).toMatchObject({ reason: 'given up when its ZooKeeper session ended' });
    expect(probe.events.drain().filter((e) => e.type === 'started')).toEqual([]);
  });

  test('a task held on a lost session is not run again on the next one; its next attempt is', async () => {
    const app = await cluster.bootWorker(W, { sessionTimeoutMs: 2_000 });
    const client = app.get(ZkClient);
    const task = await cluster.assign(
      // Due well after the session is replaced, even on a loaded machine.
      { type: 'test.clock', payload: {}, runAt: Date.now() + timing.ms(3_000) },
      [W],
    );
    // Held: read and admitted, waiting for runAt (the gauge counts it only then).
    const held = app.get(Registry).getSingleMetric('zks_worker_tasks_held')!;
    await timing.waitFor(async () => (await held.get()).values[0]?.value === 1);
    const lost = client.sessionInfo?.sessionId;
    await expireSession(server.connectString, client.sessionCredentials());
    await timing.waitFor(() => client.isConnected && client.sessionInfo?.sessionId !== lost);

    // Attempt 1 is not run on the new session: the worker hands it back (step 9).
    const handedBack = await cluster.waitForTask(task.id, (r) => r.state === 'pending');
    expect(handedBack.record.attempt).toBe(1);
    expect(await cluster.assignmentExists(W, task.id)).toBe(false);
    await timing.sleep(Math.max(0, task.runAt - Date.now()) + 200);
    expect(probe.events.drain()).toEqual([]);
    expect((await held.get()).values[0]?.value).toBe(0);

    // The leader: step 2 again (attempt 2), to the same worker.
    await cluster.reassign(task.id, [W]);
    expect(await probe.started(task.id)).toMatchObject({ attempt: 2 });
    await cluster.waitForTask(task.id, (r) => r.state === 'succeeded' && r.attempt === 2);
  });

  test('an unknown type or a bad payload fails the task for good; big results become a note', async () => {
    await cluster.bootWorker(W);
    const [unknown, badPayload, big] = await cluster.assignMany(
      [
        { type: 'no.such.type', payload: {}, retry: { maxAttempts: 3, backoffMs: 10 } },
        { type: 'sleep', payload: { ms: 'soon' }, retry: { maxAttempts: 2, backoffMs: 10 } },
        { type: 'test.clock', payload: { pad: 70_000 } },
      ],
      [W],
    );
    const failed = await cluster.waitForTask(unknown.id, (r) => r.state === 'failed');
    expect(failed.record.error?.code).toBe('unknown_type');
    expect(failed.record.error?.message).toMatch(
      /no handler for type no\.such\.type; known types: .*noop/,
    );
    const refused = await cluster.waitForTask(badPayload.id, (r) => r.state === 'failed');
    expect(refused.record.failures).toBe(1);
    expect(refused.record.error).toMatchObject({
      code: 'payload',
      message: expect.stringMatching(/ms/),
    });
    const succeeded = await cluster.waitForTask(big.id, (r) => r.state === 'succeeded');
    expect(succeeded.record.result).toEqual({
      note: expect.stringMatching(/result dropped: \d+ bytes of JSON exceed the 65536-byte limit/),
    });
  });
});

/**
 * The leader's notes to a worker (AssignmentNote, docs/task-protocol.md "Notes
 * carry records"): the test plays the leader through TaskWrites, which writes
 * the notes as the real leader does, or by hand where it must change the
 * assignment atomically.
 */
/** Step 1 then step 2 as the API and the leader write them (the assignment with its note). */
async function createAndAssign(type: string): Promise<TaskRecord> {
  const record = newTaskRecord({ type, payload: {} }, Date.now());
  await cluster.leader.mkdirp(ZkLayout.assignments(W));
  await cluster.leader.create(ZkLayout.task(record.id), encodeJson(record));
  const writes = new TaskWrites(
    cluster.leader,
    new WriteBatcher({ commit: (ops) => cluster.leader.multi(ops) }),
  );
  const next = toAssigned(record, [W], Date.now());
  const outcome = await writes.commit({
    from: { record, version: 0 },
    next,
    assign: [W],
    events: [],
  });
  expect(outcome.kind).toBe('written');
  return next;
}

function notesLeft(): Promise<string[]> {
  return cluster.leader
    .children(ZkLayout.assignments(W))
    .then(({ children }) => children.filter(ZkLayout.isAssignmentNote));
}

describe('assignment notes', () => {
  test('a task assigned with a note runs without a read of its assignment or record; the note is deleted', async () => {
    const app = await cluster.bootWorker(W);
    const gets = (): number => app.get(ZkClient).requestsSent().get('get') ?? 0;
    const before = gets();
    const task = await createAndAssign('noop');
    const { record } = await cluster.waitForTask(task.id, (r) => r.state === 'succeeded');
    expect(record).toMatchObject({ attempt: 1, workerId: W });
    await timing.waitFor(async () => ((await notesLeft()).length === 0 ? true : undefined), {
      message: async () => `notes left: ${(await notesLeft()).join(', ')}`,
    });
    expect(gets() - before).toBe(1); // the note, nothing else
  });

  test('an assignment that goes and comes back between two listings: the newer attempt in the note aborts the old one, which runs again', async () => {
    await cluster.bootWorker(W);
    const task = await createAndAssign('test.hang');
    expect(await probe.started(task.id)).toMatchObject({ attempt: 1 });
    const running = await cluster.waitForTask(task.id, (r) => r.state === 'running');

    // One transaction: attempt 1 taken back, attempt 2 given to the same worker, with its note.
    const next = toAssigned(toPending(running.record), [W], Date.now());
    const version = running.version + 1;
    await cluster.leader.multi([
      Op.set(ZkLayout.task(task.id), encodeJson(next), running.version),
      Op.delete(ZkLayout.assignment(W, task.id)),
      Op.create(
        ZkLayout.assignment(W, task.id),
        encodeJson({ attempt: next.attempt, taskVersion: version }),
      ),
      Op.create(
        ZkLayout.assignmentNotePrefix(W),
        encodeJson({
          assignments: [{ attempt: next.attempt, taskVersion: version, record: next }],
        }),
        'persistent_sequential',
      ),
    ]);

    expect((await probe.aborted(task.id)).reason).toBe('cancelled');
    expect(await probe.started(task.id)).toMatchObject({ attempt: 2 });
    const after = await cluster.waitForTask(task.id, (r) => r.state === 'running');
    expect(after).toMatchObject({ version: version + 1, record: { attempt: 2, workerId: W } });
  });

  test('a note whose delete failed is deleted on a later try, not left for the life of the process', async () => {
    await cluster.bootWorker(W);
    // Deleting a child needs DELETE on its parent: without it the worker's delete is refused,
    // as a delete lost with the link or the session would leave the note.
    const setDirPermissions = (permission: number): Promise<void> =>
      withRawClient(
        (raw) =>
          new Promise<void>((resolve, reject) =>
            raw.setACL(
              `${cluster.root}${ZkLayout.assignments(W)}`,
              [new ACL(permission, new Id('world', 'anyone'))],
              -1,
              (error) => (error ? reject(error) : resolve()),
            ),
          ),
      );
    await setDirPermissions(Permission.ALL & ~Permission.DELETE);
    const task = await createAndAssign('test.hang'); // runs on: no result write needs the delete
    expect(await probe.started(task.id)).toMatchObject({ attempt: 1 });
    await timing.sleep(1_000);
    expect(await notesLeft()).toHaveLength(1); // refused, so far

    await setDirPermissions(Permission.ALL);
    await timing.waitFor(async () => ((await notesLeft()).length === 0 ? true : undefined), {
      message: async () => `notes left: ${(await notesLeft()).join(', ')}`,
    });
  });
});

/** A plain client of the test's server, for what ZkClient does not offer (setACL). */
async function withRawClient(
  use: (raw: ReturnType<typeof createClient>) => Promise<void>,
): Promise<void> {
  const raw = createClient(server.connectString);
  await new Promise<void>((resolve) => {
    raw.once('connected', () => resolve());
    raw.connect();
  });
  try {
    await use(raw);
  } finally {
    raw.close();
  }
}
