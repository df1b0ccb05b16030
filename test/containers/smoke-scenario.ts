/**
 * What one compose cluster goes through, as a user sees it through `zks` and
 * the published ports: every container healthy; the cluster view; tasks on
 * each zone's worker; a cron job firing every second; `docker kill` of the
 * scheduler leader, and the standby taking over; the killed one back as a
 * standby; the ZooKeeper ensemble's leader stopped, and the cluster going on;
 * ZooKeeper ACLs as configured; then the history: every instant fired exactly
 * once, one `task.created` each, and who fired them.
 */
import { isTerminal } from '@app/contracts';
import { parseSrvr, timing } from '@app/zk/testing';
import type { AuditPageView, ClusterView } from '@app/contracts/dto/registry-api';
import type { JobView, Page, SubmittedTaskView, TaskView } from '@app/contracts/dto/scheduler-api';
import type { ComposeProject } from './compose-project';
import { checkFires } from './fire-checks';
import { seconds, type Report } from './report';
import type { ZksUser } from './zks-user';

export interface SmokeContext {
  project: ComposeProject;
  user: ZksUser;
  report: Report;
  /** docker-compose.secure.yml: API tokens required, ZooKeeper ACLs on. */
  secure: boolean;
  /** Measurements for the summary line. */
  figures: Map<string, string>;
}

const SCHEDULERS = ['scheduler-1', 'scheduler-2'];
/** docker-compose.yml's WORKER_LABELS. */
const WORKER_OF_ZONE: Record<string, string> = { a: 'worker-1', b: 'worker-2', c: 'worker-3' };
const FIRE_PERIOD_MS = 1_000;

export async function runSmoke(context: SmokeContext): Promise<void> {
  const { project, user, report, figures } = context;
  const upAt = Date.now();
  await report.step('docker-compose up', () => project.up());
  await report.step('every container healthy', () => project.waitHealthy());
  figures.set('healthy after', seconds(Date.now() - upAt));

  await report.step('cluster view: a leader, 2 schedulers, 3 workers, the registry draining', () =>
    fullCluster(context),
  );
  if (context.secure) {
    await report.step('API tokens required', () => tokensRequired(user));
  }
  await report.step('the web console at the registry root, the scheduler API through it', () =>
    consoleServed(user),
  );
  await report.step("tasks on each zone's worker, and on any", () => runTasks(user, report));
  const jobId = await report.step('a cron job firing every second (misfire: fire_all)', () =>
    startCronJob(context),
  );
  const takeover = await report.step('docker kill the scheduler leader', () =>
    killLeader(context, jobId),
  );
  await report.step(`${takeover.killed} restarted: back as a standby`, async () => {
    await project.start(takeover.killed);
    await project.waitHealthy([takeover.killed]);
    const view = await fullCluster(context);
    if (view.leader?.id !== takeover.survivor) {
      throw new Error(`the leader changed to ${view.leader?.id} when ${takeover.killed} came back`);
    }
  });
  await report.step('stop the ZooKeeper ensemble leader: the cluster goes on', () =>
    stopZooKeeperLeader(context, jobId),
  );
  await report.step('ZooKeeper ACLs', () => checkAcls(context, jobId));
  await report.step('history: every instant fired once, one task.created each', () =>
    checkHistory(context, jobId, takeover),
  );
}

/** The complete cluster, once every member has registered; its view is printed. */
async function fullCluster({ user, report }: SmokeContext): Promise<ClusterView> {
  let last: ClusterView | undefined;
  const view = await timing.waitFor(
    async () => {
      last = await user.json<ClusterView>(['cluster']);
      const full =
        last.leader !== null &&
        last.schedulers.length === 2 &&
        last.workers.length === 3 &&
        last.registries.length === 1 &&
        last.drainer !== null &&
        !last.stale;
      return full ? last : undefined;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 1_000,
      message: () => `the cluster view is not complete: ${last ? describe(last) : 'no answer'}`,
    },
  );
  report.detail(describe(view));
  const labels = Object.fromEntries(view.workers.map((w) => [w.id, w.labels.zone]));
  for (const [zone, worker] of Object.entries(WORKER_OF_ZONE)) {
    if (labels[worker] !== zone)
      throw new Error(`${worker} has zone=${labels[worker]}, not ${zone}`);
  }
  return view;
}

function describe(view: ClusterView): string {
  return (
    `leader ${view.leader?.id ?? 'none'}; schedulers ${view.schedulers.map((s) => s.id).join(', ')}; ` +
    `workers ${view.workers.map((w) => `${w.id} (zone=${w.labels.zone})`).join(', ')}; ` +
    `drainer ${view.drainer ?? 'none'}${view.stale ? '; STALE' : ''}`
  );
}

async function tokensRequired(user: ZksUser): Promise<void> {
  for (const command of [['cluster'], ['jobs', 'list']]) {
    const anonymous = await user.run(command, { token: null });
    if (anonymous.code !== 4 || !anonymous.stderr.includes('401')) {
      throw new Error(
        `zks ${command.join(' ')} without a token: exit ${anonymous.code}, ${anonymous.stderr.trim()}`,
      );
    }
  }
}

/** The console's files, and a scheduler reached through the registry's forwarder (HTTPS when secure). */
async function consoleServed(user: ZksUser): Promise<void> {
  const page = await user.registryGet('/');
  if (page.status !== 200 || !page.body.includes('console.js')) {
    throw new Error(`GET / on the registry: ${page.status} ${page.body.slice(0, 300)}`);
  }
  const jobs = await user.registryGet('/api/scheduler/v1/jobs?limit=1');
  if (jobs.status !== 200) {
    throw new Error(
      `GET /api/scheduler/v1/jobs on the registry: ${jobs.status} ${jobs.body.slice(0, 300)}`,
    );
  }
}

/** A task for each zone (its worker must run it), and three for any worker; all must succeed. */
async function runTasks(user: ZksUser, report: Report): Promise<void> {
  const zoned = Object.entries(WORKER_OF_ZONE).map(async ([zone, worker]) => {
    const done = await submitAndWatch(user, ['--type', 'noop', '--label', `zone=${zone}`]);
    if (done.workerId !== worker) {
      throw new Error(`task ${done.id} (zone=${zone}) ran on ${done.workerId}, not ${worker}`);
    }
    return done;
  });
  const anywhere = [1, 2, 3].map(() =>
    submitAndWatch(user, ['--type', 'sleep', '--payload', '{"ms":300}']),
  );
  const done = await Promise.all([...zoned, ...anywhere]);
  report.detail(
    `${done.length} tasks succeeded on ${[...new Set(done.map((t) => t.workerId))].sort().join(', ')}`,
  );
}

/** `zks tasks submit`, then `zks tasks watch` until it succeeds (a failure throws). */
async function submitAndWatch(user: ZksUser, options: readonly string[]): Promise<TaskView> {
  const submitted = await user.json<SubmittedTaskView>(['tasks', 'submit', ...options]);
  return user.json<TaskView>(['tasks', 'watch', submitted.id, '--timeout', '60']);
}

async function startCronJob({ user, project }: SmokeContext): Promise<string> {
  const job = await user.json<JobView>([
    'jobs',
    'create',
    '--name',
    `every-second-${project.name}`,
    '--type',
    'noop',
    '--schedule',
    '* * * * * *',
    '--misfire',
    'fire_all',
  ]);
  await firesAfter(user, job.id, 0, 3);
  return job.id;
}

/** Until the job has fired `count` instants after `after` (epoch ms). */
async function firesAfter(
  user: ZksUser,
  jobId: string,
  after: number,
  count: number,
): Promise<void> {
  let seen = 0;
  await timing.waitFor(
    async () => {
      const tasks = await tasksOf(user, jobId);
      seen = tasks.filter((t) => t.fireTime !== null && Date.parse(t.fireTime) > after).length;
      return seen >= count;
    },
    {
      timeoutMs: 30_000,
      intervalMs: 1_000,
      message: () =>
        `${seen} fires of ${jobId} after ${new Date(after).toISOString()}, not ${count}`,
    },
  );
}

async function tasksOf(user: ZksUser, jobId: string): Promise<TaskView[]> {
  return (await user.json<Page<TaskView>>(['tasks', 'list', '--job', jobId, '--all'])).items;
}

interface Takeover {
  killed: string;
  survivor: string;
  killedAt: number;
}

/** SIGKILL to the leader's container; the standby leads once the dead one's session has expired. */
async function killLeader(context: SmokeContext, jobId: string): Promise<Takeover> {
  const { user, project, report, figures } = context;
  const killed = (await fullCluster(context)).leader!.id;
  const survivor = SCHEDULERS.find((id) => id !== killed)!;
  user.useScheduler(survivor);
  const killedAt = Date.now();
  await project.kill(killed);
  report.detail(`killed ${killed}'s container; the API is now asked on ${survivor}`);
  const view = await timing.waitFor(
    async () => {
      const current = await user.json<ClusterView>(['cluster']);
      return current.leader?.id === survivor ? current : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, message: `${survivor} never became the leader` },
  );
  const takeoverMs = Date.parse(view.leader!.since) - killedAt;
  figures.set('leader takeover', seconds(takeoverMs));
  report.detail(
    `${survivor} leads ${seconds(takeoverMs)} after the kill (ZK_SESSION_TIMEOUT_MS 10 s)`,
  );
  await firesAfter(user, jobId, Date.parse(view.leader!.since), 3);
  return { killed, survivor, killedAt };
}

/** The ZooKeeper servers' modes, asked inside each container (`srvr`); `down` when it does not answer. */
async function zooKeeperModes(project: ComposeProject): Promise<Map<string, string>> {
  const servers = (await project.services()).filter((service) => /^zk\d+$/.test(service));
  const modes = await Promise.all(
    servers.map(async (server) => {
      const answer = await project.exec(server, [
        'bash',
        '-c',
        'exec 3<>/dev/tcp/127.0.0.1/2181 && echo srvr >&3 && cat <&3',
      ]);
      return [server, (answer.code === 0 && parseSrvr(answer.stdout)?.mode) || 'down'] as const;
    }),
  );
  return new Map(modes);
}

async function stopZooKeeperLeader(context: SmokeContext, jobId: string): Promise<void> {
  const { project, user, report, figures } = context;
  const modes = await zooKeeperModes(project);
  const leader = [...modes].find(([, mode]) => mode === 'leader')?.[0];
  if (!leader) throw new Error(`no ZooKeeper leader: ${JSON.stringify(Object.fromEntries(modes))}`);
  await project.stop(leader);
  const stoppedAt = Date.now();
  report.detail(`stopped ${leader} (the ensemble leader)`);
  const after = await timing.waitFor(
    async () => {
      const now = await zooKeeperModes(project);
      return [...now.values()].includes('leader') ? now : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, message: 'the two other servers elect no leader' },
  );
  figures.set('new ZooKeeper leader', `${seconds(Date.now() - stoppedAt)} after the stop`);
  report.detail(`ZooKeeper: ${[...after].map(([server, mode]) => `${server} ${mode}`).join(', ')}`);
  const task = await submitAndWatch(user, ['--type', 'noop']);
  report.detail(`task ${task.id} succeeded on ${task.workerId}`);
  await firesAfter(user, jobId, stoppedAt + 2_000, 3);
  await fullCluster(context);
  await project.start(leader);
  await project.waitHealthy([leader]);
  report.detail(`${leader} is back in the ensemble`);
}

/**
 * An anonymous ZooKeeper client inside the compose network (in the registry's
 * container, which has the client library) lists the jobs: allowed on the open
 * cluster, refused with NO_AUTH on the locked-down one.
 */
async function checkAcls({ project, report, secure }: SmokeContext, jobId: string): Promise<void> {
  const script = `
    const zk = require('node-zookeeper-client');
    const client = zk.createClient(process.env.ZK_CONNECT, { sessionTimeout: 5000 });
    client.once('connected', () =>
      client.getChildren(process.env.ZK_ROOT + '/jobs', (error, children) => {
        console.log(JSON.stringify({ error: error ? error.name : null, children: children ?? [] }));
        client.close();
      }));
    client.connect();`;
  const answer = await project.exec('registry', ['node', '-e', script]);
  const read = JSON.parse(answer.stdout.trim()) as { error: string | null; children: string[] };
  if (secure) {
    if (read.error !== 'NO_AUTH')
      throw new Error(`an anonymous client read the jobs: ${answer.stdout}`);
    report.detail('an anonymous ZooKeeper client is refused (NO_AUTH) on /zk-scheduler/jobs');
  } else {
    if (read.error !== null || !read.children.includes(jobId)) {
      throw new Error(
        `an anonymous client cannot list the jobs of the open cluster: ${answer.stdout}`,
      );
    }
    report.detail('open cluster: an anonymous ZooKeeper client lists /zk-scheduler/jobs');
  }
}

/** Deletes the job, waits for its last fires to finish and reach the history, then checks them. */
async function checkHistory(
  context: SmokeContext,
  jobId: string,
  takeover: Takeover,
): Promise<void> {
  const { user, report, figures } = context;
  const deletedAt = Date.now();
  await user.must(['jobs', 'delete', jobId]);
  let unfinished = 0;
  const { tasks, created } = await timing.waitFor(
    async () => {
      const all = await tasksOf(user, jobId);
      unfinished = all.filter((t) => !isTerminal(t.state)).length;
      if (unfinished > 0) return undefined;
      const events = await user.json<AuditPageView>([
        'audit',
        '--job',
        jobId,
        '--type',
        'task.created',
        '--all',
      ]);
      return events.items.length >= all.length ? { tasks: all, created: events.items } : undefined;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 1_000,
      message: () => `${unfinished} fires unfinished, or not all in the history yet`,
    },
  );
  const check = checkFires(jobId, FIRE_PERIOD_MS, tasks, created);
  const problems = [...check.problems];
  for (const task of tasks.filter((t) => t.state !== 'succeeded')) {
    // Fired ahead of an instant that had not come when the job was deleted: cancelled, as it must be.
    const ahead =
      task.state === 'cancelled' &&
      task.error?.message === 'job deleted' &&
      Date.parse(task.fireTime ?? '') > deletedAt;
    if (!ahead) problems.push(`fire ${task.id} ended ${task.state}: ${JSON.stringify(task.error)}`);
  }
  const elected = await user.json<AuditPageView>([
    'audit',
    '--type',
    'leader.elected',
    '--since',
    new Date(takeover.killedAt).toISOString(),
  ]);
  if (!elected.items.some((event) => event.actor.split('/')[1] === takeover.survivor)) {
    problems.push(`no leader.elected event of ${takeover.survivor} after the kill`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const [first, last] = [check.instants[0], check.instants.at(-1)!];
  figures.set('fires', `${check.instants.length} (1/s, none twice)`);
  report.detail(
    `${check.instants.length} instants from ${new Date(first).toISOString()} to ` +
      `${new Date(last).toISOString()}: each fired once and succeeded (or, fired ahead, ` +
      'was cancelled by the deletion); task.created by ' +
      [...check.createdBy].map(([member, count]) => `${member} ${count}`).join(', '),
  );
}
