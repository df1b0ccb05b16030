/** Child processes of the container smoke test: docker, docker-compose, the build script. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Each line of output, as it comes (for long steps: builds, `compose up`). */
  onLine?: (line: string) => void;
}

/** Runs a command to its end; never throws for a non-zero exit (see `mustRun`). */
export function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const collect = (into: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (into === 'stdout') stdout += text;
      else stderr += text;
      if (!options.onLine) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (pending !== '') options.onLine?.(pending);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
}

/** Runs a command and returns its stdout; a non-zero exit throws with the end of its output. */
export async function mustRun(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new CommandFailedError(
      `${command} ${args.join(' ')} exited with ${result.code}:\n${output}`,
    );
  }
  return result.stdout;
}
