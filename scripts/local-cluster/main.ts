/**
 * `npm start`: a whole zk-scheduler cluster on this machine.
 *
 *   1. ZooKeeper: ZK_CONNECT when set; else a server of its own on 127.0.0.1
 *      (port 2181 or the next free one), data in `<data dir>/zookeeper`,
 *      installing the Debian package first when needed and possible.
 *   2. PostgreSQL: DATABASE_URL when set; else an embedded server of its own
 *      (see database.ts), data in `<data dir>/postgres`; its URL goes to
 *      every service as DATABASE_URL.
 *   3. The web console's files (dist/console), built when missing; then
 *      the services from their TypeScript sources, all at once: the
 *      schedulers, the registry, the workers, each with its MEMBER_ID and
 *      ports (base + 10 × index); waits for each `/health/ready`.
 *   4. The demo job (unless --no-demo), then a summary of where things are.
 *   5. Runs until Ctrl-C / SIGTERM, then stops services, then ZooKeeper, and
 *      checks that nothing it started is left.
 *
 * Exit code 0 after a clean stop, 1 when the start failed or a process had
 * to be killed, 2 for a wrong command line.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureConsoleBuilt } from './console-build';
import { ConsoleOutput } from './console-output';
import { startDatabase } from './database';
import { ensureDemoJob, prepareDemoLogs, type DemoJob } from './demo-job';
import { parseStartOptions, USAGE, UsageError, type StartOptions } from './options';
import { ServiceProcess } from './service-process';
import {
  localSafeDefaults,
  localWebhookKey,
  readSettings,
  SettingsError,
  type LocalSettings,
} from './settings';
import { printSummary, type ZooKeeperInfo } from './summary';
import { Supervisor } from './supervisor';
import { checkServicePorts, planTopology } from './topology';
import { checkReachable } from './zookeeper-reachable';
import { ensureZooKeeperInstallation, hostSystem } from './zookeeper-installation';
import { LocalZooKeeper } from './zookeeper-server';

const ROOT = resolve(__dirname, '..', '..');
/** Two cores and a cold compile cache can make the first start slow. */
const READY_TIMEOUT_MS = 120_000;
/** Workers finish running tasks for this long after SIGTERM, then hand them back (unless set). */
const LOCAL_WORKER_GRACE_MS = 5_000;
/** A service's own shutdown, beyond the worker's grace, before it is killed. */
const STOP_MARGIN_MS = 15_000;

export function main(argv: readonly string[]): void {
  const output = new ConsoleOutput();
  run(argv, output).then(
    (code) => finish(code),
    (error: unknown) => {
      output.error(`npm start failed: ${error instanceof Error ? error.stack : String(error)}`);
      finish(1);
    },
  );
}

/** Leaves when the event loop is empty; forces the exit if a stray handle keeps it alive. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

async function run(argv: readonly string[], output: ConsoleOutput): Promise<number> {
  let settings: LocalSettings;
  let options: StartOptions;
  try {
    options = parseStartOptions(argv);
    settings = readSettings(process.env, ROOT);
  } catch (error: unknown) {
    if (error instanceof UsageError || error instanceof SettingsError) {
      output.error(error.message);
      output.block(['', USAGE]);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    output.block([USAGE]);
    return 0;
  }

  // The worker validates it; a wrong value stops the worker with a message naming it.
  const workerGrace = process.env.WORKER_SHUTDOWN_GRACE_MS?.trim() || String(LOCAL_WORKER_GRACE_MS);
  const graceMs = /^\d+$/.test(workerGrace) ? Number(workerGrace) : LOCAL_WORKER_GRACE_MS;
  const supervisor = new Supervisor(output, graceMs + STOP_MARGIN_MS);
  supervisor.listen();
  const specs = planTopology(options, settings.ports);
  output.alignTo(['zookeeper', ...specs.map((spec) => spec.memberId)]);
  const startedAt = Date.now();

  try {
    await checkServicePorts(specs);
    ensureConsoleBuilt(ROOT, output);
    const logDir = join(settings.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    // Put on every command line: `pgrep -f <data dir>` lists this run's processes.
    const marker = settings.dataDir;

    const zooKeeper = await zooKeeperFor(settings, marker, supervisor, output);
    const database = await startDatabase({
      dataDir: settings.dataDir,
      output,
      abort: supervisor.abortSignal,
    });
    supervisor.useDatabase(database);

    output.info(`starting ${specs.map((spec) => spec.memberId).join(', ')}`);
    const demoDirectory = join(settings.dataDir, 'demo-logs');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...localSafeDefaults(process.env, demoDirectory),
      ...localWebhookKey(process.env, settings.dataDir),
      ZK_CONNECT: zooKeeper.connectString,
      DATABASE_URL: database.url,
      WORKER_SHUTDOWN_GRACE_MS: workerGrace,
    };
    const services: ServiceProcess[] = [];
    for (const spec of specs) {
      const service = await ServiceProcess.start(spec, { root: ROOT, env, logDir, marker, output });
      supervisor.addService(service);
      services.push(service);
    }
    await Promise.all(
      services.map(async (service) => {
        await service.waitUntilReady(READY_TIMEOUT_MS, supervisor.abortSignal);
        output.info(
          `${service.memberId} is ready (pid ${service.pid}, ${service.url('')})`,
          'good',
        );
      }),
    );
    const readyAfterMs = Date.now() - startedAt;

    let demo: DemoJob | undefined;
    if (options.demo) {
      prepareDemoLogs(demoDirectory);
      demo = await ensureDemoJob(services[0].url(''), demoDirectory);
      output.info(
        demo.created
          ? `demo job ${demo.id} created: logs.compress every minute on ${demo.directory}`
          : `demo job ${demo.id} already exists (created by an earlier start)`,
      );
    }

    printSummary(output, { root: ROOT, services, zooKeeper, logDir, demo, readyAfterMs });
    supervisor.markUp();
    await supervisor.untilStopRequested();
  } catch (error: unknown) {
    if (!supervisor.stopping) {
      output.error(`start failed: ${error instanceof Error ? error.message : String(error)}`);
      await supervisor.stopAll();
      return 1;
    }
  }
  return (await supervisor.stopAll()) ? 0 : 1;
}

async function zooKeeperFor(
  settings: LocalSettings,
  marker: string,
  supervisor: Supervisor,
  output: ConsoleOutput,
): Promise<ZooKeeperInfo> {
  if (settings.zkConnect !== undefined) {
    await checkReachable(settings.zkConnect);
    output.info(`using the ZooKeeper at ZK_CONNECT=${settings.zkConnect}`);
    return { connectString: settings.zkConnect };
  }
  const installation = ensureZooKeeperInstallation(hostSystem((text) => output.info(text)));
  const folder = join(settings.dataDir, 'zookeeper');
  output.info(`starting ZooKeeper (${installation.home}), data in ${folder}`);
  const startedAt = Date.now();
  const zooKeeper = await LocalZooKeeper.start({
    installation,
    folder,
    preferredPort: settings.ports.zooKeeper,
    marker,
    abort: supervisor.abortSignal,
  });
  supervisor.useZooKeeper(zooKeeper);
  const moved =
    zooKeeper.port === settings.ports.zooKeeper
      ? ''
      : ` (port ${settings.ports.zooKeeper} is taken)`;
  output.info(
    `ZooKeeper is serving on ${zooKeeper.connectString}${moved}, pid ${zooKeeper.process.pid} ` +
      `(after ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
    'good',
  );
  return {
    connectString: zooKeeper.connectString,
    pid: zooKeeper.process.pid,
    dataDir: zooKeeper.dataDir,
    logFile: zooKeeper.logFile,
  };
}
