/**
 * The cluster's own ZooKeeper when ZK_CONNECT is not set: one server JVM on
 * 127.0.0.1, its data kept in `<data dir>/zookeeper/data` across restarts.
 *
 * It runs as a one-member ensemble, like the test harness's TestingServer
 * (whose folders are temporary, hence this small launcher): ZooKeeper 3.8's
 * standalone mode opens its client port before its database is loaded, and a
 * client connecting in that window can hang on a socket nobody answers
 * (ZOOKEEPER-5051); a quorum peer loads its database first.
 *
 * tickTime 500 ms, so sessions may be as short as 1 s and as long as 120 s —
 * the range ZK_SESSION_TIMEOUT_MS accepts — and the server never silently
 * changes the timeout a service asks for.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { serverStatus } from '../../libs/zk/src/testing/four-letter-word';
import { freePorts, LOOPBACK } from '../../libs/zk/src/testing/free-port';
import type { ZooKeeperInstallation } from '../../libs/zk/src/testing/zookeeper-installation';
import { describeExit, ManagedProcess, type StopResult } from './managed-process';
import { pollUntil } from './poll';
import { firstFreePort } from './ports';

export interface LocalZooKeeperOptions {
  installation: ZooKeeperInstallation;
  /** `<data dir>/zookeeper`. */
  folder: string;
  /** Wanted client port; the next free one when it is taken. */
  preferredPort: number;
  /** Text put on the JVM's command line so the processes of one run can be found (pgrep -f). */
  marker: string;
  abort: AbortSignal;
}

const TICK_TIME_MS = 500;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalZooKeeper {
  private constructor(
    readonly process: ManagedProcess,
    readonly port: number,
    readonly folder: string,
  ) {}

  static async start(options: LocalZooKeeperOptions): Promise<LocalZooKeeper> {
    const { folder } = options;
    const dataDir = join(folder, 'data');
    const configFile = join(folder, 'zoo.cfg');
    mkdirSync(dataDir, { recursive: true });
    refuseIfStillRunning(folder, configFile);

    const port = await firstFreePort(options.preferredPort, LOOPBACK);
    const [peerPort, electionPort] = await freePorts(2);
    writeFileSync(join(dataDir, 'myid'), '1\n');
    writeFileSync(configFile, config(dataDir, port, peerPort, electionPort));

    const { installation } = options;
    const log = openSync(logFile(folder), 'w');
    let server: ManagedProcess;
    try {
      server = await ManagedProcess.spawn(
        'zookeeper',
        installation.javaPath,
        [
          ...jvmOptions(options.marker),
          ...installation.loggingJvmOptions,
          '-cp',
          installation.classpath.join(':'),
          installation.mainClass,
          configFile,
        ],
        { cwd: folder, stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    writeFileSync(pidFile(folder), `${server.pid}\n`);
    const zooKeeper = new LocalZooKeeper(server, port, folder);
    try {
      await pollUntil(
        async () => {
          if (!server.running) {
            throw new Error(
              `ZooKeeper exited during start (${describeExit(await server.exited)}); ` +
                `the end of ${logFile(folder)}:\n${zooKeeper.logTail()}`,
            );
          }
          const status = await serverStatus(LOOPBACK, port, { timeoutMs: 1_000 });
          return status?.mode === 'leader' || status?.mode === 'standalone' ? status : undefined;
        },
        {
          timeoutMs: START_TIMEOUT_MS,
          intervalMs: 100,
          abort: options.abort,
          what: () =>
            `ZooKeeper on ${LOOPBACK}:${port} is not serving; the end of ${logFile(folder)}:\n${zooKeeper.logTail()}`,
        },
      );
    } catch (error: unknown) {
      await zooKeeper.stop();
      throw error;
    }
    return zooKeeper;
  }

  get connectString(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  get logFile(): string {
    return logFile(this.folder);
  }

  get dataDir(): string {
    return join(this.folder, 'data');
  }

  async stop(): Promise<StopResult> {
    const result = await this.process.stop(STOP_TIMEOUT_MS);
    rmSync(pidFile(this.folder), { force: true });
    return result;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch (error: unknown) {
      return `(no log: ${(error as Error).message})`;
    }
  }
}

function logFile(folder: string): string {
  return join(folder, 'zookeeper.log');
}

function pidFile(folder: string): string {
  return join(folder, 'zookeeper.pid');
}

/** Two servers on one data folder would corrupt it: refuse while an earlier one still runs. */
function refuseIfStillRunning(folder: string, configFile: string): void {
  const file = pidFile(folder);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  let commandLine = '';
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // Gone (or no /proc): not ours any more.
  }
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && commandLine.includes(configFile)) {
    throw new Error(
      `a ZooKeeper started by an earlier npm start still runs on ${folder} (pid ${pid}); ` +
        `stop it first (kill ${pid}), or use another ZKS_DATA_DIR`,
    );
  }
  rmSync(file, { force: true });
}

function jvmOptions(marker: string): string[] {
  return [
    '-Xmx256m',
    '-Xms32m',
    '-XX:+UseSerialGC',
    // C1 only: starts faster and uses less CPU; peak speed does not matter on a laptop.
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-Djava.awt.headless=true',
    '-Djava.net.preferIPv4Stack=true',
    `-Dzks.cluster=${marker}`,
  ];
}

function config(dataDir: string, port: number, peerPort: number, electionPort: number): string {
  return [
    '# written by npm start (scripts/local-cluster/zookeeper-server.ts) at every start',
    `tickTime=${TICK_TIME_MS}`,
    `dataDir=${dataDir}`,
    `clientPort=${port}`,
    `clientPortAddress=${LOOPBACK}`,
    `minSessionTimeout=${2 * TICK_TIME_MS}`,
    'maxSessionTimeout=120000',
    'initLimit=10',
    'syncLimit=5',
    'maxClientCnxns=0',
    // srvr is the readiness probe; the others help when looking around by hand.
    '4lw.commands.whitelist=srvr,stat,ruok,mntr,conf,cons',
    // The admin server would take port 8080.
    'admin.enableServer=false',
    // Data is kept across restarts: keep only the last snapshots and logs.
    'autopurge.snapRetainCount=3',
    'autopurge.purgeInterval=1',
    'reconfigEnabled=false',
    'standaloneEnabled=false',
    `server.1=${LOOPBACK}:${peerPort}:${electionPort}`,
    '',
  ].join('\n');
}
