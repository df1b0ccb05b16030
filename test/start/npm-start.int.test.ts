import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, timing } from '@app/zk/testing';

/**
 * `npm start` as a user runs it: its own ZooKeeper (ZK_CONNECT unset), one
 * scheduler, one worker and the registry, on free ports and a temp data
 * folder; a task submitted to the printed API succeeds; a Ctrl-C (SIGINT to
 * the whole foreground process group, as a terminal sends it) stops every
 * process it started.
 */

const ROOT = join(__dirname, '..', '..');
jest.setTimeout(90_000);

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startNpm(env: NodeJS.ProcessEnv): Run {
  const child = spawn('npm', ['start', '--', '--no-demo', '--schedulers', '1', '--workers', '1'], {
    cwd: ROOT,
    env,
    // Its own process group, like a terminal's foreground job.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Processes whose command line names the data folder (npm start puts it on every one). */
function processesMarkedWith(marker: string): string[] {
  const result = spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' });
  return result.stdout.split('\n').filter((line) => line.trim() !== '' && !line.includes('pgrep'));
}

let dataDir: string;
let run: Run | undefined;
let pids: number[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'zks-npm-start-'));
});

afterEach(() => {
  // Whatever happened, leave nothing behind.
  if (run?.child.pid !== undefined && run.child.exitCode === null) {
    try {
      process.kill(-run.child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test('npm start serves tasks from its own ZooKeeper, and Ctrl-C stops every process it started', async () => {
  const [zkPort, schedulerHttp, schedulerGrpc, registryHttp, registryGrpc, workerHttp] =
    await freePorts(6);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ZKS_DATA_DIR: dataDir,
    ZKS_ZK_PORT: String(zkPort),
    ZKS_SCHEDULER_HTTP_PORT: String(schedulerHttp),
    ZKS_SCHEDULER_GRPC_PORT: String(schedulerGrpc),
    ZKS_REGISTRY_HTTP_PORT: String(registryHttp),
    ZKS_REGISTRY_GRPC_PORT: String(registryGrpc),
    ZKS_WORKER_HTTP_PORT: String(workerHttp),
    NO_COLOR: '1',
  };
  delete env.ZK_CONNECT;
  run = startNpm(env);
  const started = run;

  const crashed = started.exited.then((exit) => {
    throw new Error(`npm start exited early (${JSON.stringify(exit)}):\n${started.output()}`);
  });
  await Promise.race([
    crashed,
    timing.waitFor(() => started.output().includes('Ctrl-C stops everything'), {
      timeoutMs: 60_000,
      intervalMs: 50,
      message: () => `npm start never said it was ready:\n${started.output()}`,
    }),
  ]);
  crashed.catch(() => undefined);

  const output = started.output();
  const api = /API\s+(http:\/\/localhost:\d+)\/v1\/jobs/.exec(output)?.[1];
  expect(api).toBe(`http://localhost:${schedulerHttp}`);
  expect(output).toContain(`${api}/docs`);
  expect(output).toContain(`ZooKeeper    127.0.0.1:${zkPort}`);
  pids = [...output.matchAll(/^ {4}\S+\s+pid (\d+)/gm)].map((match) => Number(match[1]));
  expect(pids).toHaveLength(4); // zookeeper, scheduler-1, registry-1, worker-1
  expect(pids.every(isAlive)).toBe(true);
  expect(processesMarkedWith(dataDir)).toHaveLength(4);

  const submitted = await fetch(`${api}/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'noop' }),
  });
  expect(submitted.status).toBe(202);
  const { id } = (await submitted.json()) as { id: string };
  const task = await timing.waitFor(
    async () => {
      const body = (await (await fetch(`${api}/v1/tasks/${id}`)).json()) as {
        state: string;
        workerId: string | null;
      };
      return body.state === 'succeeded' ? body : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, message: `task ${id} succeeds` },
  );
  expect(task.workerId).toBe('worker-1');

  process.kill(-started.child.pid!, 'SIGINT');
  const exit = await timing.withTimeout(started.exited, 45_000, 'npm start stops on SIGINT');
  // npm, hit by the SIGINT too, ends by that signal once the script is done.
  expect(exit.code === 0 || exit.signal === 'SIGINT').toBe(true);
  expect(started.output()).toMatch(/all 4 processes stopped, none left running/);
  expect(pids.filter(isAlive)).toEqual([]);
  expect(processesMarkedWith(dataDir)).toEqual([]);
});
