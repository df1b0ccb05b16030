/**
 * Failover times with real processes and `kill -9`, for each session timeout:
 *
 * - leader: two schedulers, a job firing every second (`fire_all`, so no
 *   instant is skipped); the leader is killed. Measured from the kill: the
 *   successor's `leader.elected` commit, its first `task.created` commit, and
 *   the first start (on a worker) of a task it created. Also the longest gap
 *   between two consecutive starts of the job around the kill (what a user of
 *   the job sees), and missed / duplicated instants over the whole run.
 * - worker: a long `sleep` task runs on one of two workers; that worker is
 *   killed. Measured from the kill: the `task.reassigned` commit (the leader saw
 *   the session end), the assignment of attempt 2, and its `startedAt` on the
 *   other worker.
 *
 *   npm run bench:failover -- --session-timeouts 2000,10000 --reps 3
 *
 * Times come from ZooKeeper's commit times (outbox entry `ctime`) and the task
 * records, on the same host clock as the kill. A killed process's session
 * expires one session timeout after the server last heard from it (rounded up
 * to a tick of 100 ms here); it pinged at most a third of a timeout before the
 * kill, so detection alone takes between 2/3 and 1 timeout.
 *
 * Prints tables, then ONE JSON line `{"bench":"failover",...}` last.
 */
import { loadavg } from 'node:os';
import { ZkClient } from '@app/zk';
import type { AuditEvent, TaskRecord } from '@app/contracts';
import type { AppProcess } from '../test/support/app-process';
import { BenchCluster, request } from './support/bench-cluster';
import { parseList, parseOptions } from './support/cli-options';
import { poll, sleep } from './support/poll';
import { scanOutbox } from './support/outbox-reader';
import { distribution, round, type Distribution } from './support/stats';
import { table } from './support/table';

const OPTIONS = [
  { name: 'reps', help: 'kills of each kind per session timeout', fallback: 3, min: 1 },
  { name: 'settle', help: 'seconds of normal running between kills', fallback: 3, min: 0 },
] as const;
const POLL_MS = 50;

interface Committed {
  event: AuditEvent;
  committedAt: number;
}

export interface LeaderKill {
  killedAt: string;
  electedMs: number;
  firstCreateMs: number;
  firstStartMs: number;
  /** First instant the successor fired, relative to the kill. */
  firstInstantFiredMs: number;
  maxStartGapMs: number;
}

export interface WorkerKill {
  killedAt: string;
  reassignedMs: number;
  reassignedToAssignedMs: number;
  startedMs: number;
}

export interface FailoverForTimeout {
  sessionTimeoutMs: number;
  negotiatedSessionTimeoutMs: number;
  leader: {
    kills: LeaderKill[];
    electedMs: Distribution;
    firstCreateMs: Distribution;
    firstStartMs: Distribution;
    maxStartGapMs: Distribution;
    /** Median kill → first fire by the successor, in session timeouts. */
    medianFirstCreateInTimeouts: number;
    missedInstants: number;
    duplicatedInstants: number;
  };
  worker: {
    kills: WorkerKill[];
    reassignedMs: Distribution;
    startedMs: Distribution;
    medianStartedInTimeouts: number;
  };
}

export interface FailoverResult {
  bench: 'failover';
  config: { sessionTimeoutsMs: number[]; reps: number; settleSeconds: number };
  loadAverageAtStart: number[];
  results: FailoverForTimeout[];
}

async function main(): Promise<void> {
  const options = parseOptions(OPTIONS, withoutListFlag(process.argv.slice(2)));
  const timeouts = parseList(
    listFlag(process.argv.slice(2)) ?? process.env.BENCH_SESSION_TIMEOUTS,
    [2_000, 10_000],
  );
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const result: FailoverResult = {
    bench: 'failover',
    config: { sessionTimeoutsMs: timeouts, reps: options.reps, settleSeconds: options.settle },
    loadAverageAtStart: loadavg().map((v) => round(v, 2)),
    results: [],
  };
  for (const sessionTimeoutMs of timeouts) {
    result.results.push(await measureTimeout(sessionTimeoutMs, options, log));
  }
  process.stdout.write(`${format(result)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function measureTimeout(
  sessionTimeoutMs: number,
  options: { reps: number; settle: number },
  log: (line: string) => void,
): Promise<FailoverForTimeout> {
  const bench = await BenchCluster.start({ sessionTimeoutMs, zkHeapMb: 256, log });
  try {
    await bench.startServices(2, 2);
    const zk = await bench.cluster.zk();
    const negotiated = await negotiatedTimeout(bench.server.connectString, sessionTimeoutMs);
    const outbox = async (): Promise<Committed[]> => {
      const events: Committed[] = [];
      await scanOutbox(zk, (event, committedAt) => events.push({ event, committedAt }));
      return events;
    };
    const api = (): AppProcess => bench.schedulers.find((s) => s.isRunning)!;

    // ---- leader -------------------------------------------------------------------------
    const job = await request<{ id: string }>(api(), 'POST', '/v1/jobs', {
      name: `failover-${sessionTimeoutMs}`,
      type: 'noop',
      schedule: '* * * * * *',
      misfire: 'fire_all',
    });
    await sleep(options.settle * 1_000);
    const leaderKills: LeaderKill[] = [];
    for (let rep = 0; rep < options.reps; rep++) {
      const leader = await bench.cluster.leader();
      log(
        `session ${sessionTimeoutMs} ms: leader kill ${rep + 1}/${options.reps} (${leader.memberId})…`,
      );
      const killedAt = Date.now();
      await leader.signal('SIGKILL');
      const successor = await bench.cluster.leader(sessionTimeoutMs + 30_000);
      const actor = `scheduler/${successor.memberId}/`;
      const byNewLeader = (c: Committed): boolean =>
        c.event.actor.startsWith(actor) && c.committedAt >= killedAt;
      const first = await poll(async () => {
        const events = (await outbox()).filter(byNewLeader);
        const elected = events.find((c) => c.event.type === 'leader.elected');
        const created = events.filter(
          (c) => c.event.type === 'task.created' && c.event.jobId === job.id,
        );
        return elected && created.length > 0 ? { elected, created } : undefined;
      }, sessionTimeoutMs + 30_000);
      const createdIds = first.created.map((c) => c.event.taskId!);
      const firstStart = await poll(async () => {
        const tasks = await Promise.all(createdIds.map((id) => bench.cluster.task(id)));
        const starts = tasks.map((t) => t?.startedAt).filter((t): t is number => t !== undefined);
        return starts.length > 0 ? Math.min(...starts) : undefined;
      }, 30_000);
      const firstInstant = Math.min(
        ...first.created.map((c) => Number(c.event.detail?.fireTime ?? Infinity)),
      );
      await bench.add('scheduler'); // a standby again for the next kill
      await sleep(options.settle * 1_000);
      const starts = (await bench.cluster.tasksOfJob(job.id))
        .map((t) => t.startedAt)
        .filter((t): t is number => t !== undefined && t > killedAt - 5_000)
        .sort((a, b) => a - b);
      leaderKills.push({
        killedAt: new Date(killedAt).toISOString(),
        electedMs: first.elected.committedAt - killedAt,
        firstCreateMs: first.created[0].committedAt - killedAt,
        firstStartMs: firstStart - killedAt,
        firstInstantFiredMs: firstInstant - killedAt,
        maxStartGapMs: Math.max(0, ...starts.slice(1).map((t, i) => t - starts[i])),
      });
    }
    await request(api(), 'DELETE', `/v1/jobs/${job.id}`);
    const { missed, duplicated } = checkInstants(
      await bench.cluster.tasksOfJob(job.id),
      await outbox(),
      job.id,
    );

    // ---- worker -------------------------------------------------------------------------
    const workerKills: WorkerKill[] = [];
    const sleepMs = Math.max(60_000, 4 * sessionTimeoutMs);
    for (let rep = 0; rep < options.reps; rep++) {
      const { id } = await request<{ id: string }>(api(), 'POST', '/v1/tasks', {
        type: 'sleep',
        payload: { ms: sleepMs },
      });
      const running = await bench.cluster.waitForTask(id, (t) => t.state === 'running', 30_000);
      const victim = bench.workers.find((w) => w.memberId === running.workerId && w.isRunning)!;
      log(
        `session ${sessionTimeoutMs} ms: worker kill ${rep + 1}/${options.reps} (${victim.memberId})…`,
      );
      const killedAt = Date.now();
      await victim.signal('SIGKILL');
      const moved: TaskRecord = await poll(
        async () => {
          const task = await bench.cluster.task(id);
          return task && task.attempt >= 2 && task.startedAt !== undefined ? task : undefined;
        },
        sessionTimeoutMs + 30_000,
        POLL_MS,
      );
      const reassigned = (await outbox()).find(
        (c) => c.event.type === 'task.reassigned' && c.event.taskId === id,
      );
      workerKills.push({
        killedAt: new Date(killedAt).toISOString(),
        reassignedMs: reassigned ? reassigned.committedAt - killedAt : NaN,
        reassignedToAssignedMs: reassigned ? moved.assignedAt! - reassigned.committedAt : NaN,
        startedMs: moved.startedAt! - killedAt,
      });
      await request(api(), 'POST', `/v1/tasks/${id}/cancel`);
      await bench.add('worker');
      await bench.waitForWorkers(2);
      await sleep(options.settle * 1_000);
    }

    const leaderDist = (pick: (k: LeaderKill) => number): Distribution =>
      distribution(leaderKills.map(pick));
    const workerDist = (pick: (k: WorkerKill) => number): Distribution =>
      distribution(workerKills.map(pick));
    const firstCreate = leaderDist((k) => k.firstCreateMs);
    const started = workerDist((k) => k.startedMs);
    return {
      sessionTimeoutMs,
      negotiatedSessionTimeoutMs: negotiated,
      leader: {
        kills: leaderKills,
        electedMs: leaderDist((k) => k.electedMs),
        firstCreateMs: firstCreate,
        firstStartMs: leaderDist((k) => k.firstStartMs),
        maxStartGapMs: leaderDist((k) => k.maxStartGapMs),
        medianFirstCreateInTimeouts: round(firstCreate.median / sessionTimeoutMs, 2),
        missedInstants: missed,
        duplicatedInstants: duplicated,
      },
      worker: {
        kills: workerKills,
        reassignedMs: workerDist((k) => k.reassignedMs),
        startedMs: started,
        medianStartedInTimeouts: round(started.median / sessionTimeoutMs, 2),
      },
    };
  } finally {
    await bench.close();
  }
}

/** Instants between the job's first and last fire with no task, and instants created twice. */
function checkInstants(
  tasks: readonly TaskRecord[],
  events: readonly Committed[],
  jobId: string,
): { missed: number; duplicated: number } {
  const instants = tasks.map((t) => t.fireTime!).sort((a, b) => a - b);
  let missed = 0;
  for (let i = 1; i < instants.length; i++) missed += (instants[i] - instants[i - 1]) / 1_000 - 1;
  const creations = new Map<number, number>();
  for (const { event } of events) {
    if (event.type !== 'task.created' || event.jobId !== jobId) continue;
    const fireTime = Number(event.detail?.fireTime);
    creations.set(fireTime, (creations.get(fireTime) ?? 0) + 1);
  }
  const duplicated = [...creations.values()].filter((n) => n > 1).length;
  return { missed, duplicated };
}

/** What the server grants a session asking for `sessionTimeoutMs` (what expiry really waits for). */
async function negotiatedTimeout(connectString: string, sessionTimeoutMs: number): Promise<number> {
  const client = new ZkClient({ connectString, sessionTimeoutMs });
  await client.start();
  try {
    return client.sessionTimeoutMs;
  } finally {
    await client.close();
  }
}

/** `--session-timeouts 2000,10000` is a list: handled apart from the numeric options. */
function listFlag(argv: readonly string[]): string | undefined {
  const i = argv.findIndex(
    (a) => a === '--session-timeouts' || a.startsWith('--session-timeouts='),
  );
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
}

function withoutListFlag(argv: readonly string[]): string[] {
  const i = argv.findIndex(
    (a) => a === '--session-timeouts' || a.startsWith('--session-timeouts='),
  );
  if (i < 0) return [...argv];
  return [...argv.slice(0, i), ...argv.slice(i + (argv[i].includes('=') ? 1 : 2))];
}

function format(r: FailoverResult): string {
  const show = (d: Distribution): string => `${d.min} / ${d.median} / ${d.max}`;
  const lines = [
    `Failover after kill -9 (min / median / max ms over ${r.config.reps} kills; load average before: ${r.loadAverageAtStart.join(' ')})`,
    '',
    'Leader kill -9 (two schedulers, a job every second, fire_all):',
    table(
      [
        'session timeout',
        'elected',
        'first task.created',
        'first start',
        'longest start gap',
        '1st create ÷ timeout',
        'missed',
        'dup',
      ],
      r.results.map((x) => [
        `${x.sessionTimeoutMs} ms (negotiated ${x.negotiatedSessionTimeoutMs})`,
        show(x.leader.electedMs),
        show(x.leader.firstCreateMs),
        show(x.leader.firstStartMs),
        show(x.leader.maxStartGapMs),
        String(x.leader.medianFirstCreateInTimeouts),
        String(x.leader.missedInstants),
        String(x.leader.duplicatedInstants),
      ]),
    ),
    '',
    'Worker kill -9 (a long sleep task; two workers):',
    table(
      ['session timeout', 'task.reassigned', 'attempt 2 started', 'started ÷ timeout'],
      r.results.map((x) => [
        `${x.sessionTimeoutMs} ms`,
        show(x.worker.reassignedMs),
        show(x.worker.startedMs),
        String(x.worker.medianStartedInTimeouts),
      ]),
    ),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
