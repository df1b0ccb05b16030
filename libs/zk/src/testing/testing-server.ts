/**
 * TestingServer: one real ZooKeeper server JVM for tests, on a free loopback
 * port with its own temp folder (config, data, log), like Curator's
 * `TestingServer`.
 *
 * Lifecycle: latent → running ⇄ stopped → closed. `start()` twice throws;
 * `stop()` (SIGTERM) and `kill()` (SIGKILL) leave the folder in place so
 * `restart()` brings the server back on the same port with the same data;
 * `close()` stops it and removes the folder. Nothing starts in the constructor.
 *
 * By default the server is a one-member ensemble (`standaloneEnabled=false`,
 * so `srvr` says `Mode: leader`), not ZooKeeper's standalone mode: standalone
 * 3.8 opens its client port before its database exists, and a client that
 * connects in that window (a client reconnecting during `restart()`) gets a
 * socket the server never answers nor closes (NullPointerException in
 * `ZooKeeperServer.removeCnxn`, ZOOKEEPER-5051) — the client hangs until its
 * own connect timeout (sessionTimeout / number of servers). A quorum peer
 * loads its database first. `{ standalone: true }` gives the real standalone
 * mode when that matters more.
 *
 * Readiness is the `srvr` four-letter word reporting a mode (standalone, or
 * leader/follower as an ensemble member). A start that does not get there within
 * the (scaled) start timeout, or whose JVM exits, fails with the tail of the
 * server's log in the error and leaves no JVM behind. Every JVM is killed when
 * the Node process ends (see cleanup.ts), whatever the test did.
 *
 * Defaults are tuned for tests: tickTime 100 ms (the minimum session timeout
 * is 2 × tickTime, so sessions of a few hundred ms are possible), maximum
 * session timeout 60 s, a 128 MB serial-GC JVM limited to the C1 compiler
 * (starts faster; peak speed does not matter here).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  parentDeathGuard,
  TEMP_DIR_PREFIX,
  trackProcess,
  trackTempDir,
  untrackTempDir,
} from './cleanup';
import {
  fourLetterWord,
  serverStatus,
  type FourLetterWord,
  type ServerMode,
  type ServerStatus,
} from './four-letter-word';
import { freePort, freePorts, LOOPBACK } from './free-port';
import { timing as defaultTiming, type Timing } from './timing';
import { zooKeeperInstallation } from './zookeeper-installation';
import { exitedWithin } from './child-exit';
import {
  jvmOptions,
  zooCfg,
  type QuorumMembership,
  type TestingServerOptions,
} from './server-config';

export type {
  ConfigValue,
  QuorumMembership,
  QuorumPeerAddress,
  TestingServerOptions,
} from './server-config';

export type TestingServerState = 'latent' | 'running' | 'stopped' | 'closed';

export interface StartOptions {
  /**
   * Wait until `srvr` reports a mode (default true). A quorum member cannot
   * serve alone: TestingCluster launches all members first, then waits.
   */
  awaitServing?: boolean;
}

export class TestingServerStartError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- server log (tail) ---\n${logTail}`);
    this.name = 'TestingServerStartError';
  }
}

const BIND_CONFLICT = /Address already in use|BindException/;
const STANDALONE_MODES: readonly ServerMode[] = ['standalone'];
const QUORUM_MODES: readonly ServerMode[] = ['leader', 'follower', 'observer'];
const AUTO_PORT_ATTEMPTS = 3;

export class TestingServer {
  private readonly timing: Timing;
  private currentState: TestingServerState = 'latent';
  private chosenPort: number | undefined;
  private readonly autoPort: boolean;
  private folder: string | undefined;
  private child: ChildProcess | undefined;
  private launches = 0;
  private membership: QuorumMembership | undefined;

  constructor(private readonly options: TestingServerOptions = {}) {
    this.timing = options.timing ?? defaultTiming;
    this.chosenPort = options.port;
    this.autoPort = options.port === undefined;
    if (options.quorum !== undefined && options.port === undefined) {
      throw new Error('TestingServer: a quorum member needs an explicit client port');
    }
    if (options.quorum !== undefined && options.standalone === true) {
      throw new Error('TestingServer: standalone and quorum exclude each other');
    }
    this.membership = options.quorum;
  }

  /** Creates and starts a server (a one-member ensemble unless `standalone` is set). */
  static async start(options: TestingServerOptions = {}): Promise<TestingServer> {
    const server = new TestingServer(options);
    try {
      await server.start();
    } catch (error: unknown) {
      await server.close();
      throw error;
    }
    return server;
  }

  get state(): TestingServerState {
    return this.currentState;
  }

  get isRunning(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  get host(): string {
    return LOOPBACK;
  }

  /** The client port (known once `start()` was called, or when given in the options). */
  get port(): number {
    if (this.chosenPort === undefined) {
      throw new Error('TestingServer: the port is chosen by start(); call it first');
    }
    return this.chosenPort;
  }

  /** "127.0.0.1:<port>". */
  get connectString(): string {
    return `${this.host}:${this.port}`;
  }

  /** The temp folder: zoo.cfg, data/, zookeeper.log. */
  get tempDir(): string {
    if (this.folder === undefined) {
      throw new Error('TestingServer: no temp folder before start()');
    }
    return this.folder;
  }

  get dataDir(): string {
    return join(this.tempDir, 'data');
  }

  get configFile(): string {
    return join(this.tempDir, 'zoo.cfg');
  }

  get logFile(): string {
    return join(this.tempDir, 'zookeeper.log');
  }

  /** Pid of the running JVM. */
  get pid(): number | undefined {
    return this.isRunning ? this.child?.pid : undefined;
  }

  /** The server id (`myid`); undefined in standalone mode. */
  get myId(): number | undefined {
    return this.membership?.myId;
  }

  /** True when `srvr` will say standalone (the `standalone` option). */
  get isStandalone(): boolean {
    return this.options.standalone === true;
  }

  async start(options: StartOptions = {}): Promise<void> {
    if (this.currentState !== 'latent') {
      throw new Error(
        `TestingServer: start() in state ${this.currentState} (use restart() after stop/kill)`,
      );
    }
    this.currentState = 'stopped';
    this.folder = mkdtempSync(join(tmpdir(), this.options.tempDirPrefix ?? TEMP_DIR_PREFIX));
    trackTempDir(this.folder);
    mkdirSync(this.dataDir);
    await this.choosePorts();

    for (let attempt = 1; ; attempt += 1) {
      if (this.membership !== undefined) {
        writeFileSync(join(this.dataDir, 'myid'), `${this.membership.myId}\n`);
      }
      writeFileSync(
        this.configFile,
        zooCfg({
          options: this.options,
          dataDir: this.dataDir,
          host: this.host,
          port: this.port,
          membership: this.membership,
        }),
      );
      try {
        await this.launch(options);
        return;
      } catch (error: unknown) {
        // A port taken between freePort() and the JVM's bind: try another one.
        const retry =
          this.autoPort &&
          attempt < AUTO_PORT_ATTEMPTS &&
          error instanceof TestingServerStartError &&
          BIND_CONFLICT.test(error.logTail);
        if (!retry) {
          throw error;
        }
        this.chosenPort = undefined;
        await this.choosePorts();
      }
    }
  }

  /** Starts the server again on the same port with the same data (stopping it first if it runs). */
  async restart(options: StartOptions = {}): Promise<void> {
    if (this.currentState === 'latent' || this.currentState === 'closed') {
      throw new Error(`TestingServer: restart() in state ${this.currentState}`);
    }
    await this.stop();
    await this.launch(options);
  }

  /** SIGTERM (ZooKeeper shuts down cleanly), then SIGKILL if it takes too long; resolves when the JVM exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined && this.isRunning) {
      child.kill('SIGTERM');
      if (!(await exitedWithin(child, this.timing.ms(this.options.stopTimeoutMs ?? 10_000)))) {
        child.kill('SIGKILL');
        await exitedWithin(child);
      }
    }
    if (this.currentState === 'running') {
      this.currentState = 'stopped';
    }
  }

  /** SIGKILL: a crash, no clean shutdown; resolves when the JVM is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child !== undefined && this.isRunning) {
      child.kill('SIGKILL');
      await exitedWithin(child);
    }
    if (this.currentState === 'running') {
      this.currentState = 'stopped';
    }
  }

  /** Stops the server and removes its temp folder. Safe to call in any state, more than once. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') {
      return;
    }
    await this.stop();
    this.currentState = 'closed';
    if (this.folder !== undefined) {
      rmSync(this.folder, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
      untrackTempDir(this.folder);
    }
  }

  /** `srvr`, parsed; undefined when not running or not serving. */
  status(): Promise<ServerStatus | undefined> {
    if (this.chosenPort === undefined || !this.isRunning) {
      return Promise.resolve(undefined);
    }
    return serverStatus(this.host, this.chosenPort);
  }

  /** Any four-letter word against this server. */
  fourLetterWord(command: FourLetterWord): Promise<string> {
    return fourLetterWord(this.host, this.port, command);
  }

  /** Znode count reported by `srvr` (includes the /zookeeper system nodes). */
  async nodeCount(): Promise<number> {
    const status = await this.status();
    if (status === undefined) {
      throw new Error(`TestingServer ${this.connectString}: not serving, no node count`);
    }
    return status.nodeCount;
  }

  /** Waits until `srvr` reports a serving mode; fails if the JVM exits or the (scaled) timeout passes. */
  async waitUntilServing(nominalTimeoutMs?: number): Promise<ServerStatus> {
    const child = this.child;
    if (child === undefined) {
      throw new Error('TestingServer: not started');
    }
    const expected = this.membership === undefined ? STANDALONE_MODES : QUORUM_MODES;
    const timeoutMs = this.timing.ms(
      nominalTimeoutMs ?? this.options.startTimeoutMs ?? this.defaultStartTimeout(),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const how =
          child.exitCode !== null ? `exit code ${child.exitCode}` : `signal ${child.signalCode}`;
        throw new TestingServerStartError(
          `ZooKeeper server ${this.describe()} exited during start (${how})`,
          this.logTail(),
        );
      }
      const status = await serverStatus(this.host, this.port, { timeoutMs: 1000 });
      if (status !== undefined && expected.includes(status.mode)) {
        return status;
      }
      if (Date.now() >= deadline) {
        throw new TestingServerStartError(
          `ZooKeeper server ${this.describe()} not serving after ${timeoutMs} ms ` +
            `(srvr mode: ${status?.mode ?? 'none'}; ZK_TEST_TIMING scales this timeout)`,
          this.logTail(),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The last `lines` lines of the server's log file. */
  logTail(lines = 40): string {
    try {
      const text = readFileSync(this.logFile, 'utf8');
      return text
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch (error: unknown) {
      return `(no log: ${error instanceof Error ? error.message : String(error)})`;
    }
  }

  /** The client port, and for a one-member ensemble its peer and election ports. */
  private async choosePorts(): Promise<void> {
    if (this.options.quorum !== undefined) {
      return;
    }
    if (this.options.standalone === true) {
      this.chosenPort ??= await freePort();
      return;
    }
    const [clientPort, peerPort, electionPort] =
      this.chosenPort === undefined
        ? await freePorts(3)
        : [this.chosenPort, ...(await freePorts(2))];
    this.chosenPort = clientPort;
    this.membership = {
      myId: 1,
      peers: [{ id: 1, host: this.host, clientPort, peerPort, electionPort }],
      initLimit: 10,
      syncLimit: 5,
    };
  }

  private describe(): string {
    const id = this.myId === undefined ? '' : ` (myid ${this.myId})`;
    return `${this.connectString}${id}, folder ${this.folder ?? '?'}`;
  }

  private defaultStartTimeout(): number {
    return this.options.quorum === undefined ? 20_000 : 30_000;
  }

  private async launch(options: StartOptions): Promise<void> {
    const installation = this.options.installation ?? zooKeeperInstallation();
    const args = [
      ...jvmOptions(installation, this.options),
      '-cp',
      installation.classpath.join(':'),
      installation.mainClass,
      this.configFile,
    ];
    const guard = parentDeathGuard();
    const command = guard.length > 0 ? guard[0] : installation.javaPath;
    const commandArgs =
      guard.length > 0 ? [...guard.slice(1), installation.javaPath, ...args] : args;

    this.launches += 1;
    const log = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      writeSync(
        log,
        `\n===== launch #${this.launches} at ${new Date().toISOString()}: ${command} ${commandArgs.join(' ')}\n`,
      );
      child = spawn(command, commandArgs, {
        cwd: this.tempDir,
        stdio: ['ignore', log, log],
        detached: false,
      });
      trackProcess(child);
    } finally {
      closeSync(log);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error: Error) =>
        reject(
          new TestingServerStartError(`cannot run ${command}: ${error.message}`, this.logTail()),
        ),
      );
    });
    // A forgotten server must not keep the test runner alive; the exit hook kills it.
    child.unref();
    this.child = child;
    this.currentState = 'running';

    if (options.awaitServing === false) {
      return;
    }
    try {
      await this.waitUntilServing();
    } catch (error: unknown) {
      await this.kill();
      throw error;
    }
  }
}
