/**
 * A service of this repository (scheduler, worker, registry) as a real child
 * process, started from its TypeScript sources, for tests where the point is a
 * process dying: `kill -9`, SIGSTOP past the session timeout, SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentDeathGuard, trackProcess } from '@app/zk/testing/cleanup';
import { freePorts, timing } from '@app/zk/testing';
import { SERVICE_NODE_FLAGS } from '@app/common/bootstrap/service-node-flags';

export type AppName = 'scheduler' | 'worker' | 'registry';

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const ROOT = join(__dirname, '..', '..');
/** Node's diagnostic reports of the services (`diagnose()`): one folder for every test run. */
const REPORT_DIR = join(tmpdir(), 'zks-node-reports');
/** SIGUSR2 writes a report (`--report-on-signal`); the services use no SIGUSR2 of their own. */
const REPORT_FLAGS = [
  '--report-on-signal',
  '--report-signal=SIGUSR2',
  `--report-directory=${REPORT_DIR}`,
];

export class AppProcess {
  readonly exited: Promise<AppExit>;
  private outputTail = '';

  private constructor(
    readonly app: AppName,
    readonly memberId: string,
    readonly httpPort: number,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.outputTail = (this.outputTail + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /**
   * Starts the service and waits until `/health/ready` answers 200. `entry`
   * replaces the app's `src/main.ts` (e.g. a worker with test handlers, or the
   * compiled `dist/apps/<app>/apps/<app>/src/main.js`).
   */
  static async start(
    app: AppName,
    env: Record<string, string>,
    readyTimeoutMs = 30_000,
    entry?: string,
  ): Promise<AppProcess> {
    // Chosen together: two separate picks may get the same port back (bench:scale once
    // saw "GRPC_PORT must differ from HTTP_PORT").
    const [spare, other] = await freePorts(2);
    const httpPort = env.HTTP_PORT ? Number(env.HTTP_PORT) : spare;
    const grpcPort = env.GRPC_PORT ?? String(httpPort === spare ? other : spare);
    const memberId = env.MEMBER_ID ?? `${app}-${httpPort}`;
    const main = entry ?? join(ROOT, 'apps', app, 'src', 'main.ts');
    // A compiled entry (`dist/…/main.js`) runs as it is; sources through swc.
    const loader = main.endsWith('.js') ? [] : ['-r', '@swc-node/register'];
    const command = [
      ...parentDeathGuard(),
      process.execPath,
      ...SERVICE_NODE_FLAGS,
      ...REPORT_FLAGS,
      ...loader,
      main,
    ];
    const child = spawn(command[0], command.slice(1), {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        ...env,
        HTTP_PORT: String(httpPort),
        GRPC_PORT: grpcPort,
        MEMBER_ID: memberId,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackProcess(child);
    const started = new AppProcess(app, memberId, httpPort, child);
    try {
      await started.waitUntilReady(readyTimeoutMs);
    } catch (error) {
      // Not ready in time: no one holds this process, so it must not live on (with its member id).
      child.kill('SIGKILL');
      throw error;
    }
    return started;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get output(): string {
    return this.outputTail;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.httpPort}${path}`;
  }

  /**
   * Sends a signal; for anything but SIGSTOP/SIGCONT waits for the exit. Throws
   * when the process has already exited: nothing was signalled, and its old
   * exit is not this signal's outcome (chaos seed 888066772 read a `kill -9`
   * exit as the outcome of a later SIGTERM).
   */
  async signal(signal: NodeJS.Signals): Promise<AppExit | undefined> {
    if (!this.isRunning) {
      const { exitCode, signalCode } = this.child;
      throw new Error(
        `${this.memberId} (pid ${this.pid}) already exited (code ${exitCode}, signal ${signalCode}): ${signal} not sent`,
      );
    }
    this.child.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return undefined;
    return timing.withTimeout(this.exited, 45_000, `${this.memberId} did not exit on ${signal}`);
  }

  /**
   * Has the process write Node's diagnostic report (its JavaScript stack and
   * every libuv handle it holds: what keeps a process that does not exit
   * alive) and returns the file's path, or undefined when none came within 3 s.
   */
  async diagnose(): Promise<string | undefined> {
    if (!this.isRunning) return undefined;
    mkdirSync(REPORT_DIR, { recursive: true });
    const mine = (): string[] =>
      readdirSync(REPORT_DIR).filter(
        (name) => name.includes(`.${this.pid}.`) && name.endsWith('.json'),
      );
    const before = new Set(mine());
    this.child.kill('SIGUSR2');
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      await timing.sleep(100);
      const written = mine().find((name) => !before.has(name));
      if (written === undefined) continue;
      await timing.sleep(200); // the file appears before it is complete
      return join(REPORT_DIR, written);
    }
    return undefined;
  }

  async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    // An exit ends the wait at once (waitFor would retry a throwing predicate until its timeout).
    const outcome = await timing.waitFor(
      async () => {
        if (!this.isRunning) return 'exited';
        const response = await fetch(this.url('/health/ready')).catch(() => undefined);
        return response?.status === 200 ? 'ready' : undefined;
      },
      {
        timeoutMs,
        intervalMs: 100,
        message: () => `${this.memberId} not ready:\n${this.outputTail.slice(-3_000)}`,
      },
    );
    if (outcome === 'exited') {
      throw new Error(`${this.memberId} exited:\n${this.outputTail.slice(-3_000)}`);
    }
  }
}
