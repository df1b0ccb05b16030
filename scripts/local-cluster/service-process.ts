/**
 * One service (scheduler, worker, registry) run from its TypeScript sources —
 * `node -r @swc-node/register apps/<app>/src/main.ts`, as the end-to-end
 * tests do — with its output shown one readable line at a time behind its
 * member id, and kept raw (pino JSON lines) in `<data dir>/logs/<member>.log`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ConsoleOutput } from './console-output';
import { readableLine } from './log-line';
import { describeExit, ManagedProcess, type StopResult } from './managed-process';
import { pollUntil } from './poll';
import { SERVICE_NODE_FLAGS } from '@app/common/bootstrap/service-node-flags';
import type { ServiceSpec } from './topology';

export interface ServiceLaunch {
  root: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Put on the command line so the processes of one run can be found (pgrep -f). */
  marker: string;
  output: ConsoleOutput;
}

export class ServiceProcess {
  private constructor(
    readonly spec: ServiceSpec,
    readonly process: ManagedProcess,
    readonly logFile: string,
  ) {}

  static async start(spec: ServiceSpec, launch: ServiceLaunch): Promise<ServiceProcess> {
    const env: NodeJS.ProcessEnv = {
      ...launch.env,
      MEMBER_ID: spec.memberId,
      HTTP_PORT: String(spec.httpPort),
    };
    if (spec.grpcPort === undefined) delete env.GRPC_PORT;
    else env.GRPC_PORT = String(spec.grpcPort);

    const logFile = join(launch.logDir, `${spec.memberId}.log`);
    const rawLog = createWriteStream(logFile, { flags: 'w' });
    const child = await ManagedProcess.spawn(
      spec.memberId,
      process.execPath,
      [
        ...SERVICE_NODE_FLAGS,
        '-r',
        '@swc-node/register',
        join('apps', spec.app, 'src', 'main.ts'),
        // Ignored by the service; there for `pgrep -f`.
        `--zks-cluster=${launch.marker}`,
      ],
      { cwd: launch.root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    showOutput(spec.memberId, child, rawLog, launch.output);
    return new ServiceProcess(spec, child, logFile);
  }

  get memberId(): string {
    return this.spec.memberId;
  }

  get pid(): number {
    return this.process.pid;
  }

  url(path: string): string {
    return `http://localhost:${this.spec.httpPort}${path}`;
  }

  /** Until `GET /health/ready` answers 200; fails at once if the process exits. */
  async waitUntilReady(timeoutMs: number, abort: AbortSignal): Promise<void> {
    await pollUntil(
      async () => {
        if (!this.process.running) {
          throw new Error(
            `${this.memberId} exited before it was ready (${describeExit(await this.process.exited)}); ` +
              `its output is above and in ${this.logFile}`,
          );
        }
        const response = await fetch(`http://127.0.0.1:${this.spec.httpPort}/health/ready`, {
          signal: AbortSignal.any([abort, AbortSignal.timeout(2_000)]),
        }).catch(() => undefined);
        await response?.body?.cancel();
        return response?.status === 200 ? true : undefined;
      },
      {
        timeoutMs,
        intervalMs: 200,
        abort,
        what: () => `${this.memberId} did not become ready at ${this.url('/health/ready')}`,
      },
    );
  }

  stop(timeoutMs: number): Promise<StopResult> {
    return this.process.stop(timeoutMs);
  }
}

/** Each line of stdout and stderr: raw to the log file, readable to the console. */
function showOutput(
  memberId: string,
  child: ManagedProcess,
  rawLog: WriteStream,
  output: ConsoleOutput,
): void {
  const streams = [child.stdout, child.stderr].filter((stream) => stream !== null);
  let open = streams.length;
  for (const stream of streams) {
    createInterface({ input: stream, crlfDelay: Infinity })
      .on('line', (line) => {
        rawLog.write(`${line}\n`);
        const readable = readableLine(line);
        if (!readable.quiet) output.line(memberId, readable.text, readable.tone);
      })
      .on('close', () => {
        open -= 1;
        if (open === 0) rawLog.end();
      });
  }
}
