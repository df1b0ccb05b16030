import { statSync } from 'node:fs';
import path from 'node:path';
import { ConfigValidationError, type ConfigProblem, type Environment } from '@app/common';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../handlers/builtin/shell.handler';
import type { HandlersModuleOptions } from '../handlers/handlers-options';

/**
 * The built-in handlers' restrictions, from worker-only variables (read here
 * like WORKER_SHUTDOWN_GRACE_MS, not in the shared AppConfig):
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `WORKER_SHELL_COMMANDS` | comma list of executables `shell` may run (exact match); `*` = any. Required when WORKER_ALLOW_SHELL=true | — |
 * | `WORKER_SHELL_WORKDIR` | absolute directory a `shell` task's cwd must stay inside (symlinks resolved) | the worker's cwd |
 * | `WORKER_SHELL_TIMEOUT_MS` | longest a command runs, whatever the task's timeout; 0 = no limit | 600000 |
 * | `WORKER_SHELL_MAX_OUTPUT_BYTES` | bytes of stdout and of stderr kept | 65536 |
 * | `WORKER_HTTP_ALLOWED_HOSTS` | comma list of hosts `http` may call (`*.example.com` for subdomains) | any host (link-local and cloud metadata always refused) |
 * | `WORKER_LOGS_ROOTS` | comma list of absolute directories `logs.compress` may work in | any absolute directory |
 */
export const DEFAULT_SHELL_TIMEOUT_MS = 600_000;
const MAX_SHELL_TIMEOUT_MS = 86_400_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const HOST = /^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

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
    const workdir = env.WORKER_SHELL_WORKDIR?.trim() || process.cwd();
    if (!path.isAbsolute(workdir) || !isDirectory(workdir)) {
      problem('WORKER_SHELL_WORKDIR', `must be an absolute path to a directory (got "${workdir}")`);
    }
    const timeoutMs = integer(
      'WORKER_SHELL_TIMEOUT_MS',
      DEFAULT_SHELL_TIMEOUT_MS,
      MAX_SHELL_TIMEOUT_MS,
    );
    options.shell = {
      allowedCommands: commands === undefined || commands.includes('*') ? undefined : commands,
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
  const badHost = hosts?.find((host) => !HOST.test(host));
  if (badHost !== undefined) {
    problem('WORKER_HTTP_ALLOWED_HOSTS', `has an invalid host "${badHost}"`);
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
