/**
 * The final checks, against DESIGN.md's invariants, from three independent
 * sources: the audit history in PostgreSQL (each transition, in ZooKeeper
 * commit order), the workers' own execution logs, and ZooKeeper itself.
 *
 * 1. A cron fire happens once: every instant of a job's window is fired once
 *    or recorded as skipped by its policy, never both, never twice.
 * 2. A deposed leader cannot write: the epochs of leader-fenced events never
 *    go down in commit order (a zombie leader's write would carry an older one).
 * 3. A stale worker cannot overwrite: every worker-written event is for the
 *    attempt the task is at and while that attempt is live; every success a
 *    worker reported is backed by its execution log.
 * 4. No task is lost: every task the run submitted or a job fired reaches a
 *    terminal state, recorded in the history.
 * 5. Audit is complete and exact: each event id once, each task's events a
 *    valid protocol path agreeing with `task_history` (the shared validator).
 * 6. ZooKeeper stays small: nothing left under /tasks or the outbox, and the
 *    znode count back to its baseline.
 * 7. No two attempts of a task run at the same time (attempt-overlap.ts): a
 *    worker cut off from ZooKeeper stops its handlers on its own before the
 *    leader can hand the task to another.
 */
import type { AuditRow, AuditSnapshot } from '../../apps/registry/test/support/audit-validator';
import { verifyTasks } from '../../apps/registry/test/support/audit-validator';
import type { TaskRecord } from '@app/contracts';
import type { ExecutionLogLine } from './execution-log';
import { checkAttemptOverlap, type ProcessTimeline } from './attempt-overlap';
import type { CronJob } from './workload';

export interface CheckInput {
  audit: AuditSnapshot;
  execLogs: ExecutionLogLine[];
  jobs: CronJob[];
  /** One-off tasks the run had acknowledged. */
  submitted: string[];
  znodes: { baseline: Record<string, number>; final: Record<string, number> };
  /** Task znodes and outbox nodes left in ZooKeeper at the end. */
  leftInZk: { tasks: number; outbox: number };
  /** Records of the tasks still in ZooKeeper at the end (for the report). */
  stuck: TaskRecord[];
  crashes: string[];
  faultProblems: string[];
  /** When each worker process exited or was frozen (ends of handler runs cut short). */
  processes: ProcessTimeline;
}

export interface CheckCounts {
  tasks: number;
  gangs: number;
  fires: number;
  skipped: number;
  retries: number;
  reassignments: number;
  fencedResults: number;
  lost: number;
  duplicated: number;
  stale: number;
  /** Handler runs of a later attempt started while an earlier attempt's still ran. */
  overlapping: number;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  problems: string[];
}

export interface Verdict {
  counts: CheckCounts;
  checks: CheckResult[];
}

const WORKER_EVENTS = new Set(['task.started', 'task.succeeded', 'task.failed', 'task.timed_out']);

export function runChecks(input: CheckInput): Verdict {
  const { audit } = input;
  const byTask = groupByTask(audit.rows);
  const jobIds = new Set(input.jobs.map((j) => j.id));
  const fired = [...byTask.keys()].filter((id) => jobIds.has(id.split('@')[0]) && id.includes('@'));
  const allTasks = [...new Set([...input.submitted, ...fired])];
  const isGang = (id: string): boolean => (audit.history.get(id)?.record?.parallelism ?? 1) > 1;
  const counts: CheckCounts = {
    tasks: allTasks.length,
    gangs: allTasks.filter(isGang).length,
    fires: fired.length,
    skipped: 0,
    retries: audit.rows.filter((r) => r.type === 'task.retry_scheduled').length,
    reassignments: audit.rows.filter((r) => r.type === 'task.reassigned').length,
    fencedResults: 0,
    lost: 0,
    duplicated: 0,
    stale: 0,
    overlapping: 0,
  };
  const checks: CheckResult[] = [];
  const check = (name: string, problems: string[]): void => {
    checks.push({ name, ok: problems.length === 0, problems });
  };

  // 4 + 5: every task terminal, its path valid and agreeing with the history.
  const single = allTasks.filter((id) => !isGang(id));
  const verdict = verifyTasks(audit, single);
  const pathProblems = [...verdict.problems];
  for (const id of allTasks.filter(isGang))
    pathProblems.push(...replayGang(id, byTask.get(id) ?? [], audit));
  counts.lost = allTasks.filter((id) => {
    const final = audit.history.get(id)?.state;
    return final === undefined || !['succeeded', 'failed', 'cancelled'].includes(final);
  }).length;
  check('every task reached a terminal state (invariant 4)', [
    ...(counts.lost > 0 ? [`${counts.lost} tasks without a terminal state in the history`] : []),
    ...(input.leftInZk.tasks > 0 ? [`${input.leftInZk.tasks} task znodes left in ZooKeeper`] : []),
    ...input.stuck
      .slice(0, 10)
      .map(
        (t) =>
          `left: ${t.id} ${t.state} attempt ${t.attempt} worker ${t.workers?.join('+') ?? t.workerId} assignedAt ${t.assignedAt ? new Date(t.assignedAt).toISOString() : '-'} startedAt ${t.startedAt ? new Date(t.startedAt).toISOString() : '-'}`,
      ),
  ]);
  check('audit history = the transitions, each once (invariant 5)', pathProblems.slice(0, 20));
  const duplicateIds = audit.rows.length - audit.distinctIds;
  const duplicateTransitions = countDuplicateTransitions(byTask);
  counts.duplicated += duplicateIds + duplicateTransitions;

  // 1: cron instants.
  const cron = checkCron(input.jobs, byTask, audit.rows);
  counts.skipped = cron.skipped;
  counts.duplicated += cron.duplicated;
  check('every cron instant fired once or skipped by policy (invariant 1)', cron.problems);

  // 2 + 3: fencing.
  const leader = checkLeaderFencing(audit.rows);
  const worker = checkWorkerFencing(byTask, input.execLogs);
  counts.stale = leader.stale + worker.stale;
  counts.fencedResults = worker.fencedResults;
  check('no write from a fenced leader accepted (invariant 2)', leader.problems);
  check('no write from a stale worker accepted (invariant 3)', worker.problems);

  // 7: attempts one at a time.
  const overlap = checkAttemptOverlap(input.execLogs, input.processes);
  counts.overlapping = overlap.problems.length;
  check(
    'no two attempts of a task ran at the same time (invariant 7)',
    overlap.problems.slice(0, 20),
  );

  check('no process crashed', input.crashes);
  check(
    'faults behaved (no quorum: no service; PostgreSQL down: events wait; SIGTERM: clean exit)',
    input.faultProblems,
  );
  check('ZooKeeper back to its baseline (invariant 6)', checkZnodes(input));
  if (duplicateIds + duplicateTransitions > 0) {
    check('nothing duplicated', [
      `${duplicateIds} event ids twice, ${duplicateTransitions} transitions twice`,
    ]);
  }
  return { counts, checks };
}

function groupByTask(rows: readonly AuditRow[]): Map<string, AuditRow[]> {
  const byTask = new Map<string, AuditRow[]>();
  for (const row of rows) {
    if (row.taskId === null || !row.type.startsWith('task.') || row.type === 'task.skipped')
      continue;
    const list = byTask.get(row.taskId);
    if (list) list.push(row);
    else byTask.set(row.taskId, [row]);
  }
  return byTask;
}

/** The same transition (type, attempt, writer) stored twice for one task. */
function countDuplicateTransitions(byTask: Map<string, AuditRow[]>): number {
  let duplicates = 0;
  for (const rows of byTask.values()) {
    const seen = new Set<string>();
    for (const row of rows) {
      const key = `${row.type}|${row.attempt}|${row.workerId}`;
      if (seen.has(key)) duplicates++;
      seen.add(key);
    }
  }
  return duplicates;
}

/** A gang task's path: members start and finish one by one; the task ends once. */
function replayGang(taskId: string, rows: readonly AuditRow[], audit: AuditSnapshot): string[] {
  let state = 'none';
  let attempt = 0;
  const problems: string[] = [];
  const path = (): string =>
    rows.map((r) => `${r.type}(a${r.attempt ?? '-'},${r.workerId ?? '-'})`).join(' → ');
  for (const row of rows) {
    if (['succeeded', 'failed', 'cancelled'].includes(state)) {
      problems.push(`gang ${taskId}: ${row.type} after the end; ${path()}`);
      break;
    }
    const reached = typeof row.detail?.state === 'string' ? row.detail.state : undefined;
    switch (row.type) {
      case 'task.created':
        state = state === 'none' ? 'pending' : 'twice';
        break;
      case 'task.assigned':
        attempt = row.attempt ?? -1;
        state = 'assigned';
        break;
      case 'task.started':
        state = 'running';
        break;
      case 'task.succeeded':
      case 'task.failed':
      case 'task.timed_out':
        if (reached === 'succeeded' || reached === 'failed') state = reached;
        else if (reached === 'retrying') state = 'retrying';
        else if (row.type !== 'task.succeeded' && reached === undefined) state = 'attempt-failed';
        break;
      case 'task.retry_scheduled':
        state = 'retrying';
        break;
      case 'task.reassigned':
        state = 'pending';
        break;
      case 'task.cancelled':
        state = 'cancelled';
        break;
    }
    if (state === 'twice') {
      problems.push(`gang ${taskId}: created twice`);
      break;
    }
  }
  if (state === 'attempt-failed') state = 'failed';
  const history = audit.history.get(taskId);
  if (!['succeeded', 'failed', 'cancelled'].includes(state))
    problems.push(`gang ${taskId}: not finished (${state}); ${path()}`);
  else if (history?.state !== state)
    problems.push(`gang ${taskId}: history ${history?.state}, events end ${state}`);
  else if (history.record && history.record.attempt !== attempt)
    problems.push(`gang ${taskId}: record attempt ${history.record.attempt}, events ${attempt}`);
  return problems;
}

interface CronVerdict {
  problems: string[];
  skipped: number;
  duplicated: number;
}

function checkCron(
  jobs: readonly CronJob[],
  byTask: Map<string, AuditRow[]>,
  rows: readonly AuditRow[],
): CronVerdict {
  const problems: string[] = [];
  let skippedTotal = 0;
  let duplicated = 0;
  for (const job of jobs) {
    const covered = new Map<number, string[]>(); // instant → how it was covered
    const cover = (instant: number, how: string): void => {
      covered.set(instant, [...(covered.get(instant) ?? []), how]);
    };
    for (const [taskId, events] of byTask) {
      if (!taskId.startsWith(`${job.id}@`)) continue;
      const created = events.filter((e) => e.type === 'task.created').length;
      for (let i = 0; i < created; i++) cover(Number(taskId.slice(job.id.length + 1)), 'fired');
    }
    for (const row of rows) {
      if (row.type !== 'task.skipped' || row.jobId !== job.id) continue;
      const detail = row.detail ?? {};
      if (detail.reason === 'misfire') {
        const first = Number(detail.first);
        const last = Number(detail.last);
        const count = Number(detail.count);
        if ((last - first) / 1_000 + 1 !== count)
          problems.push(`${job.name}: a misfire skip of ${count} instants spans ${first}..${last}`);
        for (let t = first; t <= last; t += 1_000) cover(t, 'skipped (misfire)');
        skippedTotal += count;
      } else if (row.taskId) {
        cover(Number(row.taskId.slice(job.id.length + 1)), `skipped (${String(detail.policy)})`);
        skippedTotal++;
      }
    }
    const instants = [...covered.keys()].sort((a, b) => a - b);
    if (instants.length < 10) {
      problems.push(`${job.name}: only ${instants.length} instants in its window`);
      continue;
    }
    for (const [instant, hows] of covered) {
      if (hows.length > 1) {
        duplicated += hows.length - 1;
        problems.push(
          `${job.name}: instant ${new Date(instant).toISOString()} covered ${hows.length} times: ${hows.join(', ')}`,
        );
      }
    }
    const missed: number[] = [];
    for (let t = instants[0]; t <= instants[instants.length - 1]; t += 1_000)
      if (!covered.has(t)) missed.push(t);
    if (missed.length > 0) {
      problems.push(
        `${job.name}: ${missed.length} instants neither fired nor skipped, first ${new Date(missed[0]).toISOString()}`,
      );
    }
    // The window runs to the deletion: firing resumed after the last fault.
    const last = instants[instants.length - 1];
    if (job.deletedAt !== undefined && last < job.deletedAt - 5_000) {
      problems.push(
        `${job.name}: last instant ${new Date(last).toISOString()}, deleted at ${new Date(job.deletedAt).toISOString()}`,
      );
    }
  }
  return { problems: problems.slice(0, 20), skipped: skippedTotal, duplicated };
}

function epochOf(token: string): bigint {
  return BigInt(token.split(':')[0]);
}

/** In commit order, a leader-fenced event never carries an older epoch than one before it. */
function checkLeaderFencing(rows: readonly AuditRow[]): { problems: string[]; stale: number } {
  const problems: string[] = [];
  let highest = -1n;
  let highestToken = '';
  let stale = 0;
  for (const row of rows) {
    if (!row.fencingToken) continue;
    const epoch = epochOf(row.fencingToken);
    if (epoch < highest) {
      stale++;
      if (problems.length < 10)
        problems.push(
          `seq ${row.seq} ${row.type} by ${row.actor} with token ${row.fencingToken} after ${highestToken}`,
        );
    } else {
      highest = epoch;
      highestToken = row.fencingToken;
    }
  }
  return { problems, stale };
}

/**
 * Worker writes: each for the task's current attempt while that attempt is
 * live (assigned or running), by a worker the attempt was given to; each
 * success backed by a `succeeded` line in that worker's execution log.
 */
function checkWorkerFencing(
  byTask: Map<string, AuditRow[]>,
  execLogs: readonly ExecutionLogLine[],
): { problems: string[]; stale: number; fencedResults: number } {
  const problems: string[] = [];
  let stale = 0;
  const logged = new Set(
    execLogs
      .filter((l) => l.event === 'succeeded')
      .map((l) => `${l.taskId}|${l.attempt}|${l.worker}`),
  );
  const accepted = new Set<string>();
  for (const [taskId, rows] of byTask) {
    let attempt = 0;
    let live = false;
    let ended = new Set<string>(); // members whose outcome for this attempt is in
    for (const row of rows) {
      const fromWorker = row.actor.startsWith('worker/');
      if (row.type === 'task.assigned') {
        attempt = row.attempt ?? -1;
        live = true;
        ended = new Set();
        continue;
      }
      if (fromWorker && WORKER_EVENTS.has(row.type)) {
        const member = row.actor.split('/')[1];
        const ok = row.attempt === attempt && live && !ended.has(member) && row.workerId === member;
        if (!ok) {
          stale++;
          if (problems.length < 10)
            problems.push(
              `task ${taskId}: ${row.type} by ${row.actor} for attempt ${row.attempt} (current ${attempt}, live ${live})`,
            );
        }
        if (row.type !== 'task.started') ended.add(member);
        if (row.type === 'task.succeeded') {
          const key = `${taskId}|${row.attempt}|${member}`;
          accepted.add(key);
          if (!logged.has(key)) {
            stale++;
            if (problems.length < 10)
              problems.push(
                `task ${taskId}: success of attempt ${row.attempt} by ${member} not in its execution log`,
              );
          }
        }
      }
      const reached = typeof row.detail?.state === 'string' ? row.detail.state : undefined;
      if (
        row.type === 'task.reassigned' ||
        row.type === 'task.cancelled' ||
        row.type === 'task.retry_scheduled' ||
        (row.type !== 'task.started' &&
          WORKER_EVENTS.has(row.type) &&
          reached !== undefined &&
          reached !== 'running' &&
          reached !== 'assigned') ||
        (row.type === 'task.timed_out' && !fromWorker)
      ) {
        live = false;
      }
    }
  }
  const fencedResults = [...logged].filter((key) => !accepted.has(key)).length;
  return { problems, stale, fencedResults };
}

function checkZnodes(input: CheckInput): string[] {
  const problems: string[] = [];
  if (input.leftInZk.outbox > 0)
    problems.push(`${input.leftInZk.outbox} outbox nodes never drained`);
  const keys = new Set([...Object.keys(input.znodes.baseline), ...Object.keys(input.znodes.final)]);
  for (const key of keys) {
    const before = input.znodes.baseline[key] ?? 0;
    const after = input.znodes.final[key] ?? 0;
    if (after !== before)
      problems.push(`${key}: ${before} znodes at the start, ${after} at the end`);
  }
  return problems;
}
