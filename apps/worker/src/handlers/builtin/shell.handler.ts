import { Inject, Injectable, Optional } from '@nestjs/common';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SHELL_HANDLER_OPTIONS } from '../handlers-options';
import { isInside, realPathInside } from '../support/contained-path';
import { SHELL_PATH } from '../support/executables';
import { OutputTail } from '../support/output-tail';
import {
  optionalString,
  optionalStringArray,
  optionalStringRecord,
  payloadObject,
  requiredString,
} from '../support/payload-fields';
import { ProcessGroup, type GroupExit } from '../support/process-group';
import { ShellPolicy, type ShellPolicyOptions } from '../support/shell-policy';
import { TaskHandlerType } from '../task-handler-type.decorator';
import {
  HandlerAbortedError,
  PayloadError,
  throwIfAborted,
  type TaskContext,
  type TaskHandler,
} from '../task-handler';

export interface ShellHandlerOptions extends ShellPolicyOptions {
  /**
   * When set, `cwd` is resolved against this directory and must stay inside it
   * after symlinks are resolved; the default cwd is this directory. When unset,
   * `cwd` must be absolute and defaults to the worker's own directory.
   */
  workingDirectory?: string;
  /** Time between SIGTERM and SIGKILL to the process group. Default 5 000 ms. */
  killGraceMs?: number;
  /**
   * The longest a command may run, whatever the task's own timeout: past it
   * the process group is ended and the task fails. Default: no limit here.
   */
  timeoutMs?: number;
  /** Bytes of stdout and of stderr kept (the last ones). Default 64 KiB each. */
  maxOutputBytes?: number;
}

export interface ShellPayload {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
}

export interface ShellResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Some output was dropped (only the last maxOutputBytes of each stream are kept). */
  truncated: boolean;
}

export const DEFAULT_KILL_GRACE_MS = 5_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
const STDERR_TAIL_IN_MESSAGE = 1_024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The command exited with a non-zero code or was killed by a signal we did not send. */
export class ShellCommandFailedError extends Error {
  override readonly name = 'ShellCommandFailedError';

  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/**
 * Runs an executable with an argument array (never through a shell) as the
 * leader of its own process group, under the worker's ShellPolicy (commands
 * resolved at start, argument patterns, environment allowlist). The command
 * gets none of the worker's environment: only the fixed SHELL_PATH, the
 * task's ids and the variables the task may set. The group is the task: on abort it gets
 * SIGTERM then SIGKILL after the grace, and when the command exits any
 * process it left running in its group is ended the same way.
 */
@TaskHandlerType('shell')
@Injectable()
export class ShellHandler implements TaskHandler<ShellPayload, ShellResult> {
  readonly type = 'shell';
  private readonly policy: ShellPolicy;
  private readonly workingDirectory: string | undefined;
  private readonly killGraceMs: number;
  private readonly maxOutputBytes: number;
  private readonly timeoutMs: number | undefined;

  constructor(@Optional() @Inject(SHELL_HANDLER_OPTIONS) options: ShellHandlerOptions = {}) {
    if (options.workingDirectory !== undefined && !path.isAbsolute(options.workingDirectory)) {
      throw new Error(`shell workingDirectory must be absolute, got ${options.workingDirectory}`);
    }
    this.policy = new ShellPolicy(options);
    this.workingDirectory =
      options.workingDirectory === undefined ? undefined : path.resolve(options.workingDirectory);
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.timeoutMs = options.timeoutMs;
  }

  parse(payload: unknown): ShellPayload {
    const object = payloadObject(payload, ['command', 'args', 'cwd', 'env']);
    const command = requiredString(object, 'command');
    if (command.includes('\0')) {
      throw new PayloadError('command', 'must not contain NUL');
    }
    const refusal = this.policy.commandRefusal(command);
    if (refusal !== undefined) {
      throw new PayloadError('command', refusal);
    }
    const args = optionalStringArray(object, 'args') ?? [];
    args.forEach((arg, index) => {
      if (arg.includes('\0')) {
        throw new PayloadError(`args[${index}]`, 'must not contain NUL');
      }
      const argRefusal = this.policy.argumentRefusal(command, arg);
      if (argRefusal !== undefined) {
        throw new PayloadError(`args[${index}]`, argRefusal);
      }
    });
    const env = optionalStringRecord(object, 'env') ?? {};
    for (const [name, value] of Object.entries(env)) {
      if (!ENV_NAME.test(name)) {
        throw new PayloadError(`env.${name}`, 'is not a valid environment variable name');
      }
      const envRefusal = this.policy.envRefusal(name);
      if (envRefusal !== undefined) {
        throw new PayloadError(`env.${name}`, envRefusal);
      }
      if (value.includes('\0')) {
        throw new PayloadError(`env.${name}`, 'must not contain NUL');
      }
    }
    const cwd = optionalString(object, 'cwd');
    if (cwd !== undefined) {
      this.checkCwdLexically(cwd);
    }
    return { command, args, cwd, env };
  }

  async run(payload: ShellPayload, context: TaskContext): Promise<ShellResult> {
    const { signal } = context;
    throwIfAborted(signal);
    const cwd = await this.resolveCwd(payload.cwd);
    const executable = this.policy.executableOf(payload.command);
    throwIfAborted(signal);

    let group: ProcessGroup;
    try {
      group = await ProcessGroup.start(executable, payload.args, {
        cwd,
        env: this.environment(payload.env, context),
        argv0: payload.command,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error: unknown) {
      throw new Error(`cannot start ${payload.command}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const stdout = new OutputTail(this.maxOutputBytes);
    const stderr = new OutputTail(this.maxOutputBytes);
    group.child.stdout?.on('data', stdout.push);
    group.child.stderr?.on('data', stderr.push);

    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      // The signal may have fired while the process was starting.
      if (signal.aborted) {
        onAbort();
      }
      signal.addEventListener('abort', onAbort, { once: true });
    });
    let limitTimer: NodeJS.Timeout | undefined;
    const overLimit = new Promise<'over_limit'>((resolve) => {
      if (this.timeoutMs !== undefined) {
        limitTimer = setTimeout(() => resolve('over_limit'), this.timeoutMs);
      }
    });
    const outcome = await Promise.race([group.exited(), aborted, overLimit]);
    clearTimeout(limitTimer);
    if (onAbort !== undefined) {
      signal.removeEventListener('abort', onAbort);
    }
    // Either way the group goes: on abort the whole tree, on exit whatever it left running.
    await group.terminate(this.killGraceMs);
    if (outcome === 'aborted') {
      context.logger.warn('shell command aborted; process group terminated', {
        command: payload.command,
        pid: group.child.pid,
      });
      throw new HandlerAbortedError(signal.reason);
    }
    if (outcome === 'over_limit') {
      throw new ShellCommandFailedError(
        `${payload.command} ran longer than the worker's shell limit of ${this.timeoutMs} ms; process group terminated`,
        null,
        'SIGTERM',
        stdout.text(),
        stderr.text(),
      );
    }
    return this.result(payload.command, outcome, stdout, stderr);
  }

  private result(
    command: string,
    { exitCode, signal }: GroupExit,
    stdout: OutputTail,
    stderr: OutputTail,
  ): ShellResult {
    const out = stdout.text();
    const err = stderr.text();
    if (exitCode === 0) {
      return {
        exitCode,
        stdout: out,
        stderr: err,
        truncated: stdout.truncated || stderr.truncated,
      };
    }
    const how = exitCode === null ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const tail = err.slice(-STDERR_TAIL_IN_MESSAGE).trim();
    throw new ShellCommandFailedError(
      `${command} ${how}${tail === '' ? '' : `: ${tail}`}`,
      exitCode,
      signal,
      out,
      err,
    );
  }

  private checkCwdLexically(cwd: string): void {
    if (this.workingDirectory === undefined) {
      if (!path.isAbsolute(cwd)) {
        throw new PayloadError('cwd', 'must be an absolute path');
      }
      return;
    }
    if (!isInside(this.workingDirectory, path.resolve(this.workingDirectory, cwd))) {
      throw new PayloadError(
        'cwd',
        `must stay inside the working directory ${this.workingDirectory}, got ${cwd}`,
      );
    }
  }

  /** The real directory to run in; symlinks leading out of the working directory are refused. */
  private async resolveCwd(cwd: string | undefined): Promise<string> {
    const root = this.workingDirectory;
    const candidate = root === undefined ? (cwd ?? process.cwd()) : path.resolve(root, cwd ?? '.');
    let real: string | undefined;
    try {
      real = root === undefined ? candidate : await realPathInside(candidate, [root]);
    } catch (error: unknown) {
      throw new PayloadError('cwd', `cannot be used: ${(error as Error).message}`);
    }
    if (real === undefined) {
      throw new PayloadError('cwd', `resolves outside the working directory ${root}: ${cwd}`);
    }
    const stats = await stat(real).catch((error: unknown) => {
      throw new PayloadError('cwd', `cannot be used: ${(error as Error).message}`);
    });
    if (!stats.isDirectory()) {
      throw new PayloadError('cwd', `is not a directory: ${cwd}`);
    }
    return real;
  }

  private environment(extra: Record<string, string>, context: TaskContext): NodeJS.ProcessEnv {
    const task: Record<string, string> = {
      TASK_ID: context.taskId,
      TASK_ATTEMPT: String(context.attempt),
      TASK_IDEMPOTENCY_KEY: context.idempotencyKey,
    };
    if (context.jobId !== undefined) {
      task.TASK_JOB_ID = context.jobId;
    }
    if (context.gang !== undefined) {
      task.TASK_GANG_SIZE = String(context.gang.size);
      task.TASK_GANG_INDEX = String(context.gang.index);
    }
    return { ...extra, PATH: SHELL_PATH, ...task };
  }
}
