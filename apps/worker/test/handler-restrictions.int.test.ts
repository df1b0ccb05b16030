/**
 * The built-in handlers' doors, tried from outside: tasks given to real worker
 * applications configured by environment (WORKER_ALLOW_SHELL,
 * WORKER_SHELL_COMMANDS, WORKER_SHELL_ARGS, WORKER_SHELL_ENV,
 * WORKER_SHELL_WORKDIR, WORKER_LOGS_ROOTS, WORKER_HTTP_ALLOWED_HOSTS), and a
 * worker with none of them set (the defaults). Each forbidden task fails with
 * a reason naming the restriction, and nothing it asked for happens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestingServer, timing } from '@app/zk/testing';
import type { TaskRecord } from '@app/contracts';
import type { TaskSubmission } from '@app/store';
import { Cluster } from './support/cluster';

let server: TestingServer;
let cluster: Cluster;
let http: Server;
let httpHits = 0;
const base = mkdtempSync(path.join(tmpdir(), 'zks-doors-'));
const workdir = path.join(base, 'work');
const logsRoot = path.join(base, 'logs');
const outside = path.join(base, 'outside');

/** A `.log` file two hours old: logs.compress would gzip it if allowed. */
function oldLog(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'app.log');
  writeFileSync(file, 'line\n');
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  utimesSync(file, twoHoursAgo, twoHoursAgo);
  return file;
}

beforeAll(async () => {
  mkdirSync(workdir);
  oldLog(logsRoot);
  oldLog(outside);
  symlinkSync(outside, path.join(logsRoot, 'escape'));
  http = createServer((_request, response) => {
    httpHits += 1;
    response.end('ok');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server = await TestingServer.start();
  cluster = await Cluster.create(server);
  const saved = { ...process.env };
  try {
    await cluster.bootWorker('plain');
    Object.assign(process.env, {
      WORKER_ALLOW_SHELL: 'true',
      WORKER_SHELL_COMMANDS: 'echo,touch',
      WORKER_SHELL_ARGS: JSON.stringify({ touch: [`${workdir}/[a-z]+`] }),
      WORKER_SHELL_WORKDIR: workdir,
      WORKER_LOGS_ROOTS: logsRoot,
      WORKER_HTTP_ALLOWED_HOSTS: 'allowed.example',
    });
    await cluster.bootWorker('locked');
  } finally {
    process.env = saved;
  }
}, timing.ms(60_000));

afterAll(async () => {
  await cluster?.close();
  await server?.close();
  await new Promise((resolve) => http?.close(resolve));
}, timing.ms(30_000));

async function run(submission: TaskSubmission, worker: string): Promise<TaskRecord> {
  const task = await cluster.assign(submission, [worker]);
  const { record } = await cluster.waitForTask(
    task.id,
    (r) => r.state === 'failed' || r.state === 'succeeded',
  );
  return record;
}

describe('handler restrictions', () => {
  it('has no shell handler unless WORKER_ALLOW_SHELL is true', async () => {
    const record = await run({ type: 'shell', payload: { command: 'echo' } }, 'plain');
    expect(record.state).toBe('failed');
    expect(record.error?.message).toMatch(/shell handler is disabled on this worker/);
  });

  it('runs only allowlisted programs, with an argument array, in the working folder', async () => {
    const ok = await run(
      { type: 'shell', payload: { command: 'echo', args: ['$HOME', ';', 'ls'] } },
      'locked',
    );
    expect(ok.state).toBe('succeeded');
    expect(ok.result).toMatchObject({ stdout: '$HOME ; ls\n' });

    const marker = path.join(base, 'touched');
    const refused = await run(
      { type: 'shell', payload: { command: 'mkdir', args: [marker] } },
      'locked',
    );
    expect(refused.state).toBe('failed');
    expect(refused.error?.message).toMatch(/'mkdir' is not in the worker's allowed commands/);
    expect(existsSync(marker)).toBe(false);

    const escaped = await run({ type: 'shell', payload: { command: 'echo', cwd: '..' } }, 'locked');
    expect(escaped.state).toBe('failed');
    expect(escaped.error?.message).toMatch(/must stay inside the working directory/);
  });

  it("checks an allowed command's arguments, and lets tasks set no environment variable", async () => {
    const inside = path.join(workdir, 'made');
    const made = await run(
      { type: 'shell', payload: { command: 'touch', args: [inside] } },
      'locked',
    );
    expect(made.state).toBe('succeeded');
    expect(existsSync(inside)).toBe(true);

    const marker = path.join(base, 'touched-by-args');
    const refused = await run(
      { type: 'shell', payload: { command: 'touch', args: [marker] } },
      'locked',
    );
    expect(refused.error?.message).toMatch(
      /args\[0\] is not allowed for touch: it matches none of the worker's argument patterns/,
    );
    expect(existsSync(marker)).toBe(false);

    // BASH_ENV, NODE_OPTIONS, GIT_CONFIG_*: code run by an allowed program; PATH: another program.
    for (const name of ['BASH_ENV', 'NODE_OPTIONS', 'GIT_CONFIG_COUNT', 'PATH']) {
      const record = await run(
        { type: 'shell', payload: { command: 'touch', args: [inside], env: { [name]: marker } } },
        'locked',
      );
      expect(record.state).toBe('failed');
      expect(record.error?.message).toMatch(
        new RegExp(`env\\.${name} is (not allowed|never passed)`),
      );
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('keeps logs.compress inside its roots: no .., no symlink out', async () => {
    for (const directory of [
      outside,
      path.join(logsRoot, '..', 'outside'),
      path.join(logsRoot, 'escape'),
    ]) {
      const record = await run(
        { type: 'logs.compress', payload: { directory, olderThanMinutes: 60 } },
        'locked',
      );
      expect(record.state).toBe('failed');
      expect(record.error?.message).toMatch(/outside|roots/);
    }
    expect(existsSync(path.join(outside, 'app.log'))).toBe(true);
    expect(existsSync(path.join(outside, 'app.log.gz'))).toBe(false);

    const byDefault = await run(
      { type: 'logs.compress', payload: { directory: logsRoot, olderThanMinutes: 60 } },
      'plain',
    );
    expect(byDefault.state).toBe('failed');
    expect(byDefault.error?.message).toMatch(/allows logs\.compress in no folder/);
    expect(existsSync(path.join(logsRoot, 'app.log'))).toBe(true);
    expect(existsSync(path.join(logsRoot, 'app.log.gz'))).toBe(false);

    const inside = await run(
      { type: 'logs.compress', payload: { directory: logsRoot, olderThanMinutes: 60 } },
      'locked',
    );
    expect(inside.state).toBe('succeeded');
    expect(existsSync(path.join(logsRoot, 'app.log.gz'))).toBe(true);
  });

  it('calls only allowed hosts, and by default only public addresses', async () => {
    const { port } = http.address() as AddressInfo;
    const local = await run(
      { type: 'http', payload: { url: `http://127.0.0.1:${port}/` } },
      'locked',
    );
    expect(local.state).toBe('failed');
    expect(local.error?.message).toMatch(/host 127\.0\.0\.1 is not in the allowed hosts/);

    // Without an allowlist: no loopback (by address or by name), no private range, no metadata.
    for (const [url, reason] of [
      [`http://127.0.0.1:${port}/`, /127\.0\.0\.1 is a loopback address/],
      [`http://localhost:${port}/`, /host localhost resolves to .* loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/`, /ipv4Mapped of loopback address/],
      ['http://10.0.0.1/', /private address/],
      ['http://100.100.100.200/latest/meta-data/', /cloud metadata address/],
      ['http://169.254.169.254/latest/meta-data/', /cloud metadata address/],
    ] as const) {
      const record = await run({ type: 'http', payload: { url } }, 'plain');
      expect(record.state).toBe('failed');
      expect(record.error?.message).toMatch(reason);
    }
    expect(httpHits).toBe(0);
  });
});
