import { resolveExecutable } from './executables';

/**
 * What a `shell` task may ask for, fixed when the worker starts:
 *
 * - `commands`: the executables, each resolved to its absolute path once
 *   (a later change of PATH or of the working folder changes nothing);
 * - `argumentPatterns`: per command, regular expressions one of which every
 *   argument must match whole (a command without patterns takes any);
 * - `allowedEnv`: the variables a task's `env` may set (exact names, or
 *   `PREFIX_*`); every other name is refused.
 */
export interface ShellPolicyOptions {
  /** Executables a task may name, compared exactly (`sh` does not allow `/bin/sh`); undefined = any. */
  allowedCommands?: readonly string[];
  argumentPatterns?: Readonly<Record<string, readonly string[]>>;
  allowedEnv?: readonly string[];
}

/** Variables no allowlist may open: the linker's and our fixed PATH. */
export const NEVER_TASK_ENV = /^(LD_|DYLD_)|^PATH$/;

export class ShellPolicy {
  private readonly executables: ReadonlyMap<string, string> | undefined;
  private readonly patterns: ReadonlyMap<string, readonly RegExp[]>;
  private readonly allowedEnv: readonly string[];

  constructor(options: ShellPolicyOptions) {
    this.executables =
      options.allowedCommands === undefined
        ? undefined
        : new Map(options.allowedCommands.map((name) => [name, mustResolve(name)]));
    this.patterns = new Map(
      Object.entries(options.argumentPatterns ?? {}).map(([command, sources]) => [
        command,
        sources.map(compileArgumentPattern),
      ]),
    );
    this.allowedEnv = options.allowedEnv ?? [];
    const bad = this.allowedEnv.find((name) => NEVER_TASK_ENV.test(name));
    if (bad !== undefined) throw new Error(`shell allowedEnv may not open ${bad}`);
  }

  /** Why `command` may not run, or undefined. */
  commandRefusal(command: string): string | undefined {
    if (this.executables === undefined || this.executables.has(command)) return undefined;
    return `'${command}' is not in the worker's allowed commands (${[...this.executables.keys()].join(', ')})`;
  }

  /** The executable to run: resolved at start for allowed commands, else looked up now. */
  executableOf(command: string): string {
    const known = this.executables?.get(command) ?? resolveExecutable(command);
    if (known === undefined) throw new Error(`command not found: ${command}`);
    return known;
  }

  /** Why `arg` may not be given to `command`, or undefined. */
  argumentRefusal(command: string, arg: string): string | undefined {
    const patterns = this.patterns.get(command);
    if (patterns === undefined || patterns.some((pattern) => pattern.test(arg))) return undefined;
    return `is not allowed for ${command}: it matches none of the worker's argument patterns`;
  }

  /** Why a task may not set variable `name`, or undefined. */
  envRefusal(name: string): string | undefined {
    if (NEVER_TASK_ENV.test(name))
      return 'is never passed (the linker variables and PATH are fixed)';
    if (this.allowedEnv.some((entry) => envNameMatches(entry, name))) return undefined;
    return this.allowedEnv.length === 0
      ? 'is not allowed: this worker lets tasks set no environment variable (WORKER_SHELL_ENV)'
      : `is not allowed: tasks may set only ${this.allowedEnv.join(', ')} (WORKER_SHELL_ENV)`;
  }
}

/** A pattern as the operator wrote it, anchored at both ends (Unicode mode). */
export function compileArgumentPattern(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u');
}

function envNameMatches(entry: string, name: string): boolean {
  return entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name;
}

function mustResolve(command: string): string {
  const executable = resolveExecutable(command);
  if (executable === undefined) {
    throw new Error(
      `shell command ${command} is not an executable file (looked up in the fixed PATH)`,
    );
  }
  return executable;
}
