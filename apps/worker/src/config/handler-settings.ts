import { statSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigValidationError,
  allowedHostProblem,
  type ConfigProblem,
  type Environment,
} from '@app/common';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../handlers/builtin/shell.handler';
import { SHELL_PATH, resolveExecutable } from '../handlers/support/executables';
import { NEVER_TASK_ENV, compileArgumentPattern } from '../handlers/support/shell-policy';
import type { HandlersModuleOptions } from '../handlers/handlers-options';

/**
 * The built-in handlers' restrictions, from worker-only variables (read here
 * like WORKER_SHUTDOWN_GRACE_MS, not in the shared AppConfig):
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `WORKER_SHELL_COMMANDS` | comma list of executables `shell` may run (exact match), each resolved to an absolute path at start; `*` = any. Required when WORKER_ALLOW_SHELL=true | — |
 * | `WORKER_SHELL_ARGS` | JSON `{"<command>": ["<regex>", …]}`: every argument of that command must match one pattern whole | none (any arguments) |
 * | `WORKER_SHELL_ENV` | comma list of variables a task's `env` may set (`NAME` or `PREFIX_*`) | none |
 * | `WORKER_SHELL_WORKDIR` | absolute directory a `shell` task's cwd must stay inside (symlinks resolved) | the worker's cwd |
 * | `WORKER_SHELL_TIMEOUT_MS` | longest a command runs, whatever the task's timeout; 0 = no limit | 600000 |
 * | `WORKER_SHELL_MAX_OUTPUT_BYTES` | bytes of stdout and of stderr kept | 65536 |
 * | `WORKER_HTTP_ALLOWED_HOSTS` | comma list of hosts `http` may call (`*.example.com` for subdomains, IP literals); they may be private | any host with public addresses only |
 * | `WORKER_LOGS_ROOTS` | comma list of absolute directories `logs.compress` may work in | none (every task refused) |
 */
export const DEFAULT_SHELL_TIMEOUT_MS = 600_000;
const MAX_SHELL_TIMEOUT_MS = 86_400_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

function list(value: string | undefined): string[] | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  return trimmed
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

export function loadHandlerSettings(env: Environment, allowShell: boolean): HandlersModuleOptions {
  const problems: ConfigProblem[] = [];
  const problem = (variable: string, message: string): void => {
    problems.push({ variable, message: `${variable} ${message}` });
  };
  const integer = (variable: string, fallback: number, max: number): number => {
    const raw = env[variable]?.trim();
    if (!raw) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) > max) {
      problem(variable, `must be a whole number from 0 to ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  };

  const options: {
    allowShell: boolean;
    shell?: HandlersModuleOptions['shell'];
    http?: HandlersModuleOptions['http'];
    logsCompress?: HandlersModuleOptions['logsCompress'];
  } = { allowShell };

  if (allowShell) {
    const commands = list(env.WORKER_SHELL_COMMANDS);
    if (commands === undefined) {
      problem(
        'WORKER_SHELL_COMMANDS',
        'must list the executables the shell handler may run (comma-separated, or * for any) when WORKER_ALLOW_SHELL=true',
      );
    }
    const anyCommand = commands === undefined || commands.includes('*');
    const missing = anyCommand ? [] : commands.filter((name) => !resolveExecutable(name));
    if (missing.length > 0) {
      problem(
        'WORKER_SHELL_COMMANDS',
        `names ${missing.join(', ')}, not an executable file (bare names are looked up in ${SHELL_PATH})`,
      );
    }
    const workdir = env.WORKER_SHELL_WORKDIR?.trim() || process.cwd();
    if (!path.isAbsolute(workdir) || !isDirectory(workdir)) {
      problem('WORKER_SHELL_WORKDIR', `must be an absolute path to a directory (got "${workdir}")`);
    }
    const timeoutMs = integer(
      'WORKER_SHELL_TIMEOUT_MS',
      DEFAULT_SHELL_TIMEOUT_MS,
      MAX_SHELL_TIMEOUT_MS,
    );
    const allowedEnv = list(env.WORKER_SHELL_ENV) ?? [];
    const badEnv = allowedEnv.find((name) => !ENV_ENTRY.test(name) || NEVER_TASK_ENV.test(name));
    if (badEnv !== undefined) {
      problem(
        'WORKER_SHELL_ENV',
        `has "${badEnv}": list variable names or PREFIX_* patterns; PATH, LD_* and DYLD_* are never passed`,
      );
    }
    const argumentPatterns = shellArgs(env.WORKER_SHELL_ARGS, anyCommand ? [] : commands, problem);
    options.shell = {
      allowedCommands: anyCommand ? undefined : commands,
      ...(argumentPatterns === undefined ? {} : { argumentPatterns }),
      ...(allowedEnv.length === 0 ? {} : { allowedEnv }),
      workingDirectory: workdir,
      timeoutMs: timeoutMs === 0 ? undefined : timeoutMs,
      maxOutputBytes: integer(
        'WORKER_SHELL_MAX_OUTPUT_BYTES',
        DEFAULT_MAX_OUTPUT_BYTES,
        MAX_OUTPUT_BYTES,
      ),
    };
  }

  const hosts = list(env.WORKER_HTTP_ALLOWED_HOSTS);
  const badHost = hosts?.map(allowedHostProblem).find((reason) => reason !== undefined);
  if (badHost !== undefined) {
    problem('WORKER_HTTP_ALLOWED_HOSTS', `has an invalid entry: ${badHost}`);
  }
  if (hosts !== undefined) options.http = { allowedHosts: hosts };

  const roots = list(env.WORKER_LOGS_ROOTS);
  const badRoot = roots?.find((root) => !path.isAbsolute(root));
  if (badRoot !== undefined) {
    problem('WORKER_LOGS_ROOTS', `must list absolute directories (got "${badRoot}")`);
  }
  if (roots !== undefined) options.logsCompress = { roots };

  if (problems.length > 0) throw new ConfigValidationError(problems);
  return options;
}

/** WORKER_SHELL_ARGS: a JSON object from listed commands to arrays of regular expressions. */
function shellArgs(
  raw: string | undefined,
  commands: readonly string[],
  problem: (variable: string, message: string) => void,
): Record<string, string[]> | undefined {
  if (!raw?.trim()) return undefined;
  const shape = 'must be a JSON object {"<command>": ["<regular expression>", …]}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problem('WORKER_SHELL_ARGS', `${shape} (it is not valid JSON)`);
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problem('WORKER_SHELL_ARGS', shape);
    return undefined;
  }
  const patterns: Record<string, string[]> = {};
  for (const [command, sources] of Object.entries(parsed)) {
    if (!commands.includes(command)) {
      problem(
        'WORKER_SHELL_ARGS',
        `has patterns for ${command}, which WORKER_SHELL_COMMANDS does not list`,
      );
      continue;
    }
    if (!Array.isArray(sources) || !sources.every((source) => typeof source === 'string')) {
      problem('WORKER_SHELL_ARGS', `${shape}; the value of ${command} is not an array of strings`);
      continue;
    }
    for (const source of sources as string[]) {
      try {
        compileArgumentPattern(source);
      } catch (error) {
        problem(
          'WORKER_SHELL_ARGS',
          `has an invalid pattern for ${command}: ${(error as Error).message}`,
        );
      }
    }
    patterns[command] = sources as string[];
  }
  return patterns;
}
