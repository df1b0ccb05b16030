import type { TaskRecord, TaskState } from '@app/contracts';
import type { AuditRow, AuditSnapshot } from '../../apps/registry/test/support/audit-validator';
import { runChecks, type CheckInput } from './checks';
import type { ExecutionLogLine } from './execution-log';

/** The chaos checks on hand-made histories: each kind of violation is caught and counted. */

const JOB = 'job-1';
const T0 = 1_800_000_000_000;
const LEADER_A = '100:/election/scheduler/c-1';
const LEADER_B = '200:/election/scheduler/c-2';

let seq = 0;
function row(fields: Partial<AuditRow> & Pick<AuditRow, 'type'>): AuditRow {
  seq++;
  return {
    seq: String(seq),
    id: `e-${seq}`,
    taskId: null,
    jobId: null,
    workerId: null,
    attempt: null,
    detail: null,
    actor: 'scheduler/scheduler-1/1',
    fencingToken: LEADER_A,
    time: T0 + seq,
    ...fields,
  };
}

/** A task's normal life on worker w: created, assigned, started, succeeded. */
function life(taskId: string, w = 'worker-1', jobId?: string): AuditRow[] {
  const worker = { actor: `worker/${w}/2`, fencingToken: null, workerId: w, taskId, attempt: 1 };
  return [
    row({ type: 'task.created', taskId, jobId: jobId ?? null }),
    row({ type: 'task.assigned', taskId, attempt: 1, workerId: w }),
    row({ type: 'task.started', ...worker }),
    row({ type: 'task.succeeded', ...worker, detail: { state: 'succeeded' } }),
  ];
}

function record(id: string, state: TaskState = 'succeeded', attempt = 1): TaskRecord {
  return {
    id,
    type: 'chaos.work',
    payload: {},
    state,
    attempt,
    failures: 0,
    retry: { maxAttempts: 1, backoffMs: 100 },
    parallelism: 1,
    runAt: T0,
    createdAt: T0,
  };
}

function input(
  rows: AuditRow[],
  taskIds: string[],
  overrides: Partial<CheckInput> = {},
): CheckInput {
  const history: AuditSnapshot['history'] = new Map(
    taskIds.map((id) => [id, { taskId: id, state: 'succeeded', attempt: 1, record: record(id) }]),
  );
  const execLogs: ExecutionLogLine[] = rows
    .filter((r) => r.type === 'task.succeeded')
    .map((r) => ({
      event: 'succeeded',
      taskId: r.taskId!,
      attempt: r.attempt!,
      worker: r.workerId!,
      pid: 2,
      at: r.time,
    }));
  return {
    audit: { rows, distinctIds: new Set(rows.map((r) => r.id)).size, history },
    execLogs,
    processes: { exits: new Map(), pauses: [] },
    jobs: [
      { id: JOB, name: 'every-second', concurrency: 'allow', misfire: 'fire_all', createdAt: T0 },
    ],
    submitted: taskIds.filter((id) => !id.includes('@')),
    znodes: { baseline: { '/tasks': 0 }, final: { '/tasks': 0 } },
    leftInZk: { tasks: 0, outbox: 0 },
    stuck: [],
    crashes: [],
    faultProblems: [],
    ...overrides,
  };
}

/** Twelve fires of the job, one per second, and one one-off task. */
function healthyRun(): { rows: AuditRow[]; ids: string[] } {
  seq = 0;
  const ids = Array.from({ length: 12 }, (_, i) => `${JOB}@${T0 + i * 1_000}`);
  const rows = ids.flatMap((id) => life(id, 'worker-1', JOB));
  rows.push(...life('one-off'));
  return { rows, ids: [...ids, 'one-off'] };
}

function failed(result: ReturnType<typeof runChecks>): string[] {
  return result.checks.filter((c) => !c.ok).map((c) => c.name);
}

test('a clean history passes every check', () => {
  const { rows, ids } = healthyRun();
  const result = runChecks(input(rows, ids));
  expect(failed(result)).toEqual([]);
  expect(result.counts).toMatchObject({ tasks: 13, fires: 12, lost: 0, duplicated: 0, stale: 0 });
});

test('a missed cron instant, and one both fired and skipped, fail invariant 1', () => {
  const { rows, ids } = healthyRun();
  const missing = `${JOB}@${T0 + 5_000}`;
  const kept = rows.filter((r) => r.taskId !== missing);
  kept.push(
    row({
      type: 'task.skipped',
      jobId: JOB,
      taskId: `${JOB}@${T0 + 7_000}`,
      detail: { policy: 'forbid' },
    }),
  );
  const result = runChecks(
    input(
      kept,
      ids.filter((id) => id !== missing),
    ),
  );
  const cron = result.checks.find((c) => c.name.includes('invariant 1'))!;
  expect(cron.ok).toBe(false);
  expect(cron.problems.join('\n')).toMatch(/1 instants neither fired nor skipped/);
  expect(cron.problems.join('\n')).toMatch(/covered 2 times/);
  expect(result.counts.duplicated).toBe(1);
});

test('a write with an older fencing token after a newer leader fails invariant 2', () => {
  const { rows, ids } = healthyRun();
  rows.splice(5, 0, row({ type: 'leader.elected', fencingToken: LEADER_B }));
  const result = runChecks(input(rows, ids));
  expect(failed(result)).toContain('no write from a fenced leader accepted (invariant 2)');
  expect(result.counts.stale).toBeGreaterThan(0);
});

test("a worker's report after its attempt was reassigned, or not in its log, fails invariant 3", () => {
  const { rows, ids } = healthyRun();
  seq = 1_000;
  const zombie = {
    actor: 'worker/worker-2/3',
    fencingToken: null,
    workerId: 'worker-2',
    taskId: 'moved',
  };
  rows.push(
    row({ type: 'task.created', taskId: 'moved' }),
    row({ type: 'task.assigned', taskId: 'moved', attempt: 1, workerId: 'worker-2' }),
    row({ type: 'task.reassigned', taskId: 'moved', attempt: 1 }),
    row({ type: 'task.assigned', taskId: 'moved', attempt: 2, workerId: 'worker-1' }),
    row({ type: 'task.failed', ...zombie, attempt: 1, detail: { state: 'failed' } }),
  );
  const result = runChecks(input(rows, [...ids, 'moved']));
  const stale = result.checks.find((c) => c.name.includes('invariant 3'))!;
  expect(stale.ok).toBe(false);
  expect(stale.problems[0]).toMatch(
    /task moved: task.failed by worker\/worker-2\/3 for attempt 1 \(current 2/,
  );

  const unlogged = input(healthyRun().rows, ids);
  unlogged.execLogs = unlogged.execLogs.filter((l) => l.taskId !== 'one-off');
  expect(runChecks(unlogged).checks.find((c) => c.name.includes('invariant 3'))!.problems).toEqual([
    'task one-off: success of attempt 1 by worker-1 not in its execution log',
  ]);
});

test('a task that never finished counts as lost; leftover znodes fail invariant 6', () => {
  const { rows, ids } = healthyRun();
  const unfinished = rows.filter((r) => !(r.taskId === 'one-off' && r.type === 'task.succeeded'));
  const checked = input(unfinished, ids, {
    znodes: { baseline: { '/tasks': 0 }, final: { '/tasks': 1 } },
    leftInZk: { tasks: 1, outbox: 0 },
    stuck: [record('one-off', 'running')],
  });
  checked.audit.history.set('one-off', {
    taskId: 'one-off',
    state: 'running',
    attempt: 1,
    record: null,
  });
  const result = runChecks(checked);
  expect(result.counts.lost).toBe(1);
  expect(failed(result)).toEqual(
    expect.arrayContaining([
      'every task reached a terminal state (invariant 4)',
      'audit history = the transitions, each once (invariant 5)',
      'ZooKeeper back to its baseline (invariant 6)',
    ]),
  );
});

test('an event stored twice is counted as duplicated', () => {
  const { rows, ids } = healthyRun();
  rows.push({ ...rows[rows.length - 1], seq: '9999' });
  const result = runChecks(input(rows, ids));
  expect(result.counts.duplicated).toBeGreaterThan(0);
  expect(failed(result)).toContain('nothing duplicated');
});
