import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, TestingServer, timing } from '@app/zk/testing';
import type { JobView, Page, TaskView } from '@app/contracts/dto/scheduler-api';
import type { AuditEventView, AuditPageView, ClusterView } from '@app/contracts/dto/registry-api';
import { LocalCluster } from '../../../test/support/local-cluster';
import { jsonOf, runZks, startZks, type ZksRun } from './support/run-zks';

/**
 * `zks` against a running cluster of real processes (one scheduler, one
 * worker, the registry on a fresh database): every command, its tables and
 * its `--json`, and the exit codes scripts rely on (0 ok, 1 failed, 2 usage,
 * 3 not found, 4 rejected, 5 unreachable or 5xx).
 */

jest.setTimeout(timing.ms(90_000));

let server: TestingServer;
let cluster: LocalCluster;
let env: Record<string, string>;

beforeAll(async () => {
  server = await TestingServer.start();
  cluster = new LocalCluster({
    connectString: server.connectString,
    env: { WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') },
  });
  const [scheduler, registry] = await Promise.all([
    cluster.start('scheduler'),
    cluster.start('registry'),
    cluster.start('worker'),
  ]);
  env = { ZKS_URL: `http://127.0.0.1:${scheduler.httpPort}`, ZKS_REGISTRY_URL: registry.url('') };
}, timing.ms(90_000));

afterAll(async () => {
  await cluster?.close();
  await server?.close();
});

const zks = (...args: string[]): Promise<ZksRun> => runZks(args, env);

function expectExit(run: ZksRun, code: number): void {
  if (run.code !== code) {
    throw new Error(
      `exit ${run.code}, expected ${code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
    );
  }
}

test('cluster: the leader, the worker and the registry, as a table and as JSON', async () => {
  const [human, json] = await Promise.all([zks('cluster'), zks('--json', 'cluster')]);
  expectExit(human, 0);
  expect(human.stdout).toMatch(/^leader\s+scheduler-1 \(pid \d+/m);
  expect(human.stdout).toMatch(/^WORKERS \(1\)\nID\s+ENDPOINT\s+PID\s+RUNNING\s+CAPACITY/m);
  expectExit(json, 0);
  const view = jsonOf<ClusterView>(json);
  expect(view.leader?.id).toBe('scheduler-1');
  expect(view.workers.map((w) => w.id)).toEqual(['worker-3']);
  expect(view.registries.map((r) => r.id)).toEqual(['registry-2']);
});

test('jobs: create, list, get, pause, resume, trigger (watched to success), delete', async () => {
  const created = await zks(
    '--json',
    'jobs',
    'create',
    '--name',
    'cli-nightly',
    '--type',
    'noop',
    '--schedule',
    '0 3 * * *',
    '--timezone',
    'Europe/Paris',
    '--max-attempts',
    '2',
    '--label',
    'zone=a',
    '--label',
    'disk=ssd',
  );
  expectExit(created, 0);
  const job = jsonOf<JobView>(created);
  expect(job).toMatchObject({
    name: 'cli-nightly',
    schedule: '0 3 * * *',
    timezone: 'Europe/Paris',
    retry: { maxAttempts: 2 },
    selector: { labels: { zone: 'a', disk: 'ssd' } },
    paused: false,
  });

  const [list, listJson, get] = await Promise.all([
    zks('jobs', 'list'),
    zks('--json', 'jobs', 'list', '--all'),
    zks('jobs', 'get', 'cli-nightly'), // by name
  ]);
  expectExit(list, 0);
  expect(list.stdout).toMatch(/^ID\s+NAME\s+TYPE\s+SCHEDULE/);
  expect(list.stdout).toContain(`${job.id}  cli-nightly  noop  0 3 * * * (Europe/Paris)`);
  expect(jsonOf<Page<JobView>>(listJson).items.map((j) => j.id)).toContain(job.id);
  expectExit(get, 0);
  expect(get.stdout).toMatch(new RegExp(`^id\\s+${job.id}$`, 'm'));
  expect(get.stdout).toMatch(/^selector\s+zone=a,disk=ssd$/m);

  const paused = await zks('--json', 'jobs', 'pause', job.id);
  expectExit(paused, 0);
  expect(jsonOf<JobView>(paused).paused).toBe(true);
  const resumed = await zks('jobs', 'resume', job.id);
  expectExit(resumed, 0);
  expect(resumed.stdout).toContain(`resumed job cli-nightly (${job.id})`);
  expect(jsonOf<JobView>(await zks('--json', 'jobs', 'get', job.id)).paused).toBe(false);

  // The job's selector matches no worker: a trigger of a label-free copy is watched instead.
  const free = jsonOf<JobView>(
    await zks('--json', 'jobs', 'create', '--name', 'cli-now', '--type', 'noop', '--run-at', '+1h'),
  );
  const triggered = await zks('jobs', 'trigger', 'cli-now', '--watch', '--timeout', '30');
  expectExit(triggered, 0);
  expect(triggered.stdout).toMatch(new RegExp(`^submitted task ${free.id}@\\S+$`, 'm'));
  expect(triggered.stdout).toMatch(/succeeded\s+worker worker-3\s+attempt 1/);

  const preview = await zks(
    'jobs',
    'preview',
    '--schedule',
    '0 9 * * *',
    '--timezone',
    'Asia/Tokyo',
    '--count',
    '3',
  );
  expectExit(preview, 0);
  expect(preview.stdout).toMatch(/^(\S+T09:00:00\+09:00 {2}\(\S+T00:00:00\.000Z\)\n){3}$/);
  const badPreview = await zks(
    'jobs',
    'preview',
    '--schedule',
    '0 9 * * *',
    '--timezone',
    'Nowhere',
  );
  expectExit(badPreview, 4);
  expect(badPreview.stderr).toContain('timezone');

  const deleted = await zks('jobs', 'delete', job.id);
  expectExit(deleted, 0);
  expect(deleted.stdout).toBe(`deleted job ${job.id}\n`);
  const gone = await zks('jobs', 'get', job.id);
  expectExit(gone, 3);
  expect(gone.stderr).toContain(`not found: job ${job.id} not found`);
  expectExit(await zks('jobs', 'pause', 'no-such-job'), 3);
});

test('tasks: submit and watch to success; get, list and audit show it', async () => {
  const run = await zks('tasks', 'submit', '--type', 'sleep', '--payload', '{"ms":200}', '--watch');
  expectExit(run, 0);
  const id = /^submitted task (\S+)$/m.exec(run.stdout)?.[1];
  expect(id).toBeDefined();
  expect(run.stdout).toMatch(/succeeded\s+worker worker-3\s+attempt 1\s+result \{"sleptMs":200\}/);

  const [get, getJson, list] = await Promise.all([
    zks('tasks', 'get', id!),
    zks('--json', 'tasks', 'get', id!),
    zks('--json', 'tasks', 'list', '--state', 'succeeded', '--all'),
  ]);
  expectExit(get, 0);
  expect(get.stdout).toMatch(/^state\s+succeeded$/m);
  expect(jsonOf<TaskView>(getJson)).toMatchObject({ id, state: 'succeeded', workerId: 'worker-3' });
  expect(jsonOf<Page<TaskView>>(list).items.map((t) => t.id)).toContain(id);

  // The history reaches PostgreSQL through the drain, a moment later.
  const events = await timing.waitFor(
    async () => {
      const page = jsonOf<AuditPageView>(await zks('--json', 'audit', '--task', id!));
      return page.items.some((e) => e.type === 'task.succeeded') ? page.items : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 300, message: `task ${id} succeeded in the audit history` },
  );
  expect(events.map((e) => e.type)).toEqual([
    'task.created',
    'task.assigned',
    'task.started',
    'task.succeeded',
  ]);
  const [table, filtered] = await Promise.all([
    zks('audit', '--task', id!, '--since', '10m'),
    zks('--json', 'audit', '--worker', 'worker-3', '--type', 'task.succeeded', '--limit', '1'),
  ]);
  expectExit(table, 0);
  expect(table.stdout).toMatch(/^SEQ\s+TIME\s+TYPE\s+TASK\s+JOB\s+WORKER\s+ATTEMPT\s+DETAIL$/m);
  expect(table.stdout).toMatch(new RegExp(`task\\.succeeded\\s+${id}\\s+-\\s+worker-3\\s+1`));
  const one = jsonOf<AuditPageView>(filtered);
  expect(one.items).toHaveLength(1);
  expect(one.items[0]).toMatchObject({ type: 'task.succeeded', workerId: 'worker-3' });
});

test('audit --follow: the history, then each event as it is stored, one JSON object per line', async () => {
  const follow = startZks(
    ['--json', 'audit', '--follow', '--type', 'task.succeeded', '--since', '10m'],
    env,
  );
  try {
    const lines = (): AuditEventView[] =>
      follow
        .stdout()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as AuditEventView);
    await timing.waitFor(() => follow.stderr().includes('following live events'), {
      timeoutMs: 20_000,
      message: () => `the stream opens:\n${follow.stderr()}`,
    });
    const before = lines().length; // the history: the earlier tests' tasks
    const [a, b] = await Promise.all([
      zks('--json', 'tasks', 'submit', '--type', 'noop'),
      zks('--json', 'tasks', 'submit', '--type', 'noop'),
    ]);
    const ids = [a, b].map((run) => jsonOf<{ id: string }>(run).id);
    const seen = await timing.waitFor(
      () => {
        const events = lines();
        return ids.every((id) => events.some((e) => e.taskId === id)) ? events : undefined;
      },
      {
        timeoutMs: 20_000,
        message: () => `both tasks in the stream:\n${follow.stdout()}\n${follow.stderr()}`,
      },
    );
    expect(seen.length).toBeGreaterThanOrEqual(before + 2);
    expect(seen.every((e) => e.type === 'task.succeeded')).toBe(true);
    const seqs = seen.map((e) => BigInt(e.seq));
    expect(seqs).toEqual([...seqs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(new Set(seqs).size).toBe(seqs.length); // history and live: nothing twice
  } finally {
    await follow.stop();
  }
});

test('tasks: a failed task makes watch exit 1; a cancelled one too, and a second cancel is refused', async () => {
  const failed = await zks(
    'tasks',
    'submit',
    '--type',
    'sleep',
    '--payload',
    '{"ms":10000}',
    '--timeout-ms',
    '200',
    '-w',
  );
  expectExit(failed, 1);
  expect(failed.stdout).toMatch(/failed\s+worker worker-3\s+attempt 1/);
  expect(failed.stderr).toMatch(/^zks: task \S+ failed: .*\(timeout\)$/m);

  const submitted = jsonOf<{ id: string; state: string }>(
    await zks('--json', 'tasks', 'submit', '--type', 'sleep', '--payload', '{"ms":60000}'),
  );
  // The leader's own API gives a task a worker as it creates it when one has room.
  expect(submitted.state).toBe('assigned');
  const cancel = await zks('tasks', 'cancel', submitted.id);
  expectExit(cancel, 0);
  expect(cancel.stdout).toBe(`cancelled task ${submitted.id} (cancelled)\n`);
  const [watched, again] = await Promise.all([
    zks('--json', 'tasks', 'watch', submitted.id, '--timeout', '20'),
    zks('tasks', 'cancel', submitted.id),
  ]);
  expectExit(watched, 1);
  expect(jsonOf<TaskView>(watched).state).toBe('cancelled');
  expectExit(again, 4);
  expect(again.stderr).toContain('(409 Conflict)');
  expect(again.stderr).toMatch(/^ {2}state: /m);
});

test('webhooks: create (secret printed once), list, get, update, test, deliveries, delete', async () => {
  const created = await zks(
    '--json',
    'webhooks',
    'create',
    '--endpoint',
    'https://hooks.example.com/zks',
    '--event',
    'task.failed',
    '--event',
    'worker.left',
    '--task-type',
    'http',
  );
  expectExit(created, 0);
  const hook = jsonOf<{ id: string; secret: string; events: string[] }>(created);
  expect(hook.secret).toMatch(/^whsec_/);
  expect(hook.events).toEqual(['task.failed', 'worker.left']);

  const [list, get] = await Promise.all([zks('webhooks', 'list'), zks('webhooks', 'get', hook.id)]);
  expectExit(list, 0);
  expect(list.stdout).toMatch(/^ID\s+URL\s+EVENTS\s+FILTER/m);
  expect(list.stdout).toContain(hook.id);
  expect(list.stdout).not.toContain(hook.secret);
  expectExit(get, 0);
  expect(get.stdout).toMatch(/^task type\s+http$/m);
  expect(get.stdout).not.toContain(hook.secret);

  const updated = await zks('webhooks', 'update', hook.id, '--event', '*', '--no-filter');
  expectExit(updated, 0);
  expect(updated.stdout).toMatch(/^events\s+\*$/m);
  expect(updated.stdout).toMatch(/^task type\s+-$/m);

  const ping = await zks('webhooks', 'test', hook.id);
  expectExit(ping, 0);
  expect(ping.stdout).toMatch(/^ping queued: X-Zks-Delivery [0-9a-f-]{36}$/m);
  const deliveries = await zks('webhooks', 'deliveries', hook.id);
  expectExit(deliveries, 0);
  expect(deliveries.stdout).toMatch(/^EVENT\s+TYPE\s+STATE\s+ATTEMPTS/m);
  expect(deliveries.stdout).toMatch(/\sping\s+(pending|failed)\s/);

  const bad = await zks('webhooks', 'create', '--endpoint', 'ftp://x', '--event', 'task.failed');
  expectExit(bad, 4);
  expect(bad.stderr).toMatch(/url must use http or https/);
  expectExit(await zks('webhooks', 'delete', hook.id), 0);
  expectExit(await zks('webhooks', 'get', hook.id), 3);
});

test('bad input: the server names the field and the reason (exit 4); an unknown task is exit 3', async () => {
  const [badCron, badAudit, unknown] = await Promise.all([
    zks('jobs', 'create', '--name', 'bad', '--type', 'noop', '--schedule', '61 * * * *'),
    zks('audit', '--since', '2021-01-01T00:00:00Z', '--until', '2020-01-01T00:00:00Z'),
    zks('tasks', 'get', 'no-such-task'),
  ]);
  expectExit(badCron, 4);
  expect(badCron.stderr).toContain('the scheduler refused POST /v1/jobs (400 Bad Request)');
  expect(badCron.stderr).toMatch(/^ {2}schedule: minute field: 61 is out of range/m);
  expectExit(badAudit, 4);
  expect(badAudit.stderr).toMatch(/^ {2}until: must be after since$/m);
  expectExit(unknown, 3);
  expect(unknown.stderr).toContain('not found: task no-such-task not found');
  expect(unknown.stdout).toBe('');
});

test('an unreachable scheduler or registry is exit 5 with a hint', async () => {
  const port = await freePort();
  const down = await runZks(['tasks', 'list'], { ZKS_URL: `http://127.0.0.1:${port}` });
  expectExit(down, 5);
  expect(down.stderr).toBe(
    `zks: cannot reach the scheduler at http://127.0.0.1:${port} (ECONNREFUSED); is the cluster running? npm start\n`,
  );
  const registryDown = await runZks(['--registry-url', `http://127.0.0.1:${port}`, 'cluster']);
  expectExit(registryDown, 5);
  expect(registryDown.stderr).toContain(`cannot reach the registry at http://127.0.0.1:${port}`);
});

describe('against a stand-in server', () => {
  let stub: Server;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];
  let status = 200;

  beforeAll(async () => {
    stub = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(
        status === 200
          ? JSON.stringify({ items: [], nextCursor: null })
          : JSON.stringify({
              statusCode: status,
              error: 'x',
              message: `status ${status}`,
              errors: [],
            }),
      );
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => stub.close(() => resolve())));

  test('--token and ZKS_TOKEN are sent as a bearer token; 401 is exit 4 with a hint, 500 exit 5', async () => {
    status = 200;
    expectExit(await runZks(['--url', url, '--token', 's3cret', 'jobs', 'list']), 0);
    expectExit(await runZks(['jobs', 'list'], { ZKS_URL: url, ZKS_TOKEN: 'from-env' }), 0);
    expectExit(await runZks(['jobs', 'list'], { ZKS_URL: url }), 0);
    expect(seen.map((h) => h.authorization)).toEqual([
      'Bearer s3cret',
      'Bearer from-env',
      undefined,
    ]);
    status = 401;
    const refused = await runZks(['jobs', 'list'], { ZKS_URL: url });
    expectExit(refused, 4);
    expect(refused.stderr).toContain('pass --token or set ZKS_TOKEN');
    status = 500;
    const failing = await runZks(['jobs', 'list'], { ZKS_URL: url });
    expectExit(failing, 5);
    expect(failing.stderr).toContain('(500 Internal Server Error): status 500');
  });
});
