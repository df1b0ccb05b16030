import { randomUUID } from 'node:crypto';
import { ZkClient } from '@app/zk';
import { timing } from '@app/zk/testing';
import {
  DEFAULT_RETRY,
  ZkLayout,
  type AuditEvent,
  type JobSpec,
  type OutboxEntry,
  type TaskRecord,
} from '@app/contracts';
import { AuditWriter, JobStore, WriteBatcher, decodeJson } from '@app/store';
import { LeaderFixture } from '../support/leader-fixture';
import type { Behaviour } from '../support/protocol-worker';

const LEAD_MS = 400;
const fixture = new LeaderFixture({
  SCHEDULER_FIRE_LEAD_MS: String(LEAD_MS),
  SCHEDULER_MISFIRE_THRESHOLD_MS: '1500',
}).install();
const client = () => fixture.client();
const scheduler = (id: string, env?: Record<string, string>) => fixture.scheduler(id, env);
const worker = (behaviour: (record: TaskRecord) => Behaviour = () => 'succeed') =>
  fixture.worker(`w-${randomUUID().slice(0, 8)}`, { capacity: 100 }, behaviour);

async function jobs(): Promise<{ store: JobStore; zk: ZkClient }> {
  const zk = await client();
  return {
    store: new JobStore(
      zk,
      new WriteBatcher({ commit: (ops) => zk.multi(ops) }),
      new AuditWriter('test'),
    ),
    zk,
  };
}

function everySecond(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name: `job-${randomUUID()}`,
    type: 'noop',
    payload: { hello: 'world' },
    schedule: '* * * * * *',
    timezone: 'UTC',
    retry: DEFAULT_RETRY,
    parallelism: 1,
    concurrency: 'allow',
    misfire: 'fire_once',
    paused: false,
    ...overrides,
  };
}

async function tasksOf(zk: ZkClient, jobId: string): Promise<TaskRecord[]> {
  const { children } = await zk.children(ZkLayout.tasks);
  const mine = children.filter((id) => id.startsWith(`${jobId}@`));
  const records = await Promise.all(
    mine.map(async (id) => decodeJson<TaskRecord>((await zk.get(ZkLayout.task(id))).data)),
  );
  return records.sort((a, b) => a.fireTime! - b.fireTime!);
}

async function auditEvents(zk: ZkClient): Promise<AuditEvent[]> {
  const { children } = await zk.children(ZkLayout.outbox);
  const entries = await Promise.all(
    children
      .sort()
      .map(async (name) =>
        decodeJson<OutboxEntry>((await zk.get(`${ZkLayout.outbox}/${name}`)).data),
      ),
  );
  return entries.flatMap((entry) => entry.events);
}

test('a job every second fires once per instant, ahead of the instant, with the job template', async () => {
  await scheduler('s1');
  const w = await worker();
  const { store, zk } = await jobs();
  const job = await store.create(everySecond());
  await timing.waitFor(
    async () => (await tasksOf(zk, job.id)).filter((t) => t.state === 'succeeded').length >= 4,
    {
      message: 'four fires',
    },
  );
  const tasks = await tasksOf(zk, job.id);
  const instants = tasks.map((t) => t.fireTime!);
  for (let i = 1; i < instants.length; i++) expect(instants[i] - instants[i - 1]).toBe(1_000);
  for (const task of tasks) {
    expect(task.id).toBe(`${job.id}@${task.fireTime}`);
    expect(task).toMatchObject({ type: 'noop', payload: { hello: 'world' }, runAt: task.fireTime });
    expect(task.createdAt).toBeLessThanOrEqual(task.fireTime!); // created ahead of its instant
  }
  const held = w.seen.filter((t) => t.record.jobId === job.id);
  expect(held.every((t) => t.record.assignedAt! <= t.record.runAt)).toBe(true);
  const state = decodeJson<{ lastFireAt: number; nextFireAt: number }>(
    (await zk.get(ZkLayout.jobState(job.id))).data,
  );
  expect(state.nextFireAt - state.lastFireAt).toBe(1_000);
});

test('forbid: a fire while the previous task runs is skipped and recorded; fires resume after it ends', async () => {
  await scheduler('s1');
  const w = await worker(() => 'hold');
  const { store, zk } = await jobs();
  const job = await store.create(everySecond({ concurrency: 'forbid' }));
  await timing.waitFor(() => w.held.size === 1, { message: 'the first fire is held' });
  await timing.waitFor(
    async () =>
      (await auditEvents(zk)).filter((e) => e.type === 'task.skipped' && e.jobId === job.id)
        .length >= 2,
    { message: 'two fires skipped while the first runs' },
  );
  expect(w.held.size).toBe(1);
  expect(await tasksOf(zk, job.id)).toHaveLength(1);
  await w.finish([...w.held.keys()][0], 'succeeded');
  await timing.waitFor(() => w.seen.length >= 2, {
    message: 'the next fire runs once the first ended',
  });
  const skipped = (await auditEvents(zk)).filter(
    (e) => e.type === 'task.skipped' && e.jobId === job.id,
  );
  expect(skipped[0].detail).toMatchObject({ reason: 'previous still running', policy: 'forbid' });
});

test('replace: the running task is cancelled when the next instant fires', async () => {
  await scheduler('s1');
  const w = await worker(() => 'hold');
  const { store, zk } = await jobs();
  const job = await store.create(everySecond({ concurrency: 'replace' }));
  await timing.waitFor(async () => (await tasksOf(zk, job.id)).length >= 3, {
    message: 'three fires',
  });
  const tasks = await tasksOf(zk, job.id);
  expect(tasks.slice(0, -2).every((t) => t.state === 'cancelled')).toBe(true);
  expect(tasks[0].error).toMatchObject({ code: 'cancelled', message: 'replaced by a newer fire' });
  const live = tasks.filter((t) => t.state === 'assigned' || t.state === 'running');
  expect(live.length).toBeLessThanOrEqual(2);
  expect(w.seen.length).toBeGreaterThanOrEqual(2);
});

test('paused: no fires; resumed with skip: no burst for the pause; with fire_once: one fire for it', async () => {
  await scheduler('s1');
  await worker();
  const { store, zk } = await jobs();
  const skipJob = await store.create(everySecond({ paused: true, misfire: 'skip' }));
  const onceJob = await store.create(everySecond({ paused: true, misfire: 'fire_once' }));
  await timing.sleep(2_500);
  expect(await tasksOf(zk, skipJob.id)).toHaveLength(0);
  const resumedAt = Date.now();
  await store.update(skipJob.id, (job) => ({ ...job, paused: false }));
  await store.update(onceJob.id, (job) => ({ ...job, paused: false }));
  await timing.waitFor(async () => (await tasksOf(zk, skipJob.id)).length >= 2, {
    message: 'skip job fires again',
  });
  const skipFires = (await tasksOf(zk, skipJob.id)).map((t) => t.fireTime!);
  expect(Math.min(...skipFires)).toBeGreaterThan(resumedAt - 1_500); // nothing from deep in the pause
  await timing.waitFor(async () => (await tasksOf(zk, onceJob.id)).length >= 2, {
    message: 'once job fires again',
  });
  const onceFires = (await tasksOf(zk, onceJob.id)).map((t) => t.fireTime!);
  expect(onceFires.filter((t) => t < resumedAt - 1_500)).toHaveLength(1); // one catch-up fire
  const skipped = (await auditEvents(zk)).filter(
    (e) => e.type === 'task.skipped' && e.jobId === skipJob.id,
  );
  expect(skipped.length).toBeGreaterThanOrEqual(1);
  expect(skipped[0].detail).toMatchObject({ reason: 'misfire', policy: 'skip' });
});

test('one-off runAt job fires exactly once', async () => {
  await scheduler('s1');
  await worker();
  const { store, zk } = await jobs();
  const runAt = Date.now() + 700;
  const job = await store.create(everySecond({ schedule: undefined, runAt }));
  await timing.waitFor(
    async () => (await tasksOf(zk, job.id)).some((t) => t.state === 'succeeded'),
    {
      message: 'the one-off fire ran',
    },
  );
  await timing.sleep(1_200);
  const tasks = await tasksOf(zk, job.id);
  expect(tasks.map((t) => t.fireTime)).toEqual([runAt]);
  const state = decodeJson<{ nextFireAt: number | null }>(
    (await zk.get(ZkLayout.jobState(job.id))).data,
  );
  expect(state.nextFireAt).toBeNull();
});

test('leader failover with fire_all: every instant fires exactly once across the handover', async () => {
  const first = await scheduler('s1');
  await timing.waitFor(() => first.leadership.isLeader, { message: 's1 leads' });
  await scheduler('s2');
  await worker();
  const { store, zk } = await jobs();
  const job = await store.create(everySecond({ misfire: 'fire_all' }));
  await timing.waitFor(async () => (await tasksOf(zk, job.id)).length >= 2, {
    message: 'fires before failover',
  });
  await first.close();
  await timing.sleep(2_500); // a gap longer than the misfire threshold
  await timing.waitFor(async () => (await tasksOf(zk, job.id)).length >= 8, {
    message: 'fires after failover',
  });
  const instants = (await tasksOf(zk, job.id)).map((t) => t.fireTime!);
  for (let i = 1; i < instants.length; i++) expect(instants[i] - instants[i - 1]).toBe(1_000); // none missed, none twice
});

test('deleting a job stops its fires and cancels those handed out ahead of their instant', async () => {
  await scheduler('s1', { SCHEDULER_FIRE_LEAD_MS: '3000' });
  await worker(() => 'hold');
  const { store, zk } = await jobs();
  const job = await store.create(everySecond());
  await timing.waitFor(async () => (await tasksOf(zk, job.id)).length >= 2, {
    message: 'fires ahead',
  });
  await store.delete(job.id);
  await timing.waitFor(
    async () => {
      const tasks = await tasksOf(zk, job.id);
      const future = tasks.filter((t) => t.fireTime! > Date.now() + 500);
      return future.length > 0 && future.every((t) => t.state === 'cancelled');
    },
    { message: 'future fires cancelled' },
  );
  await timing.waitFor(async () => !(await zk.exists(ZkLayout.jobState(job.id))), {
    message: 'job state removed',
  });
  const count = (await tasksOf(zk, job.id)).length;
  await timing.sleep(1_500);
  expect(await tasksOf(zk, job.id)).toHaveLength(count);
});
