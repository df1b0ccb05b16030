/**
 * Runs `zks` as a user does: `bin/zks.js` in a child process (the compiled CLI
 * after `npm run build`, else the TypeScript sources), with its exit code and
 * output.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ZKS_BIN = join(__dirname, '..', '..', '..', '..', 'bin', 'zks.js');

export interface ZksRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  // Only what the test passes: nothing from the shell running the tests.
  for (const key of ['ZKS_URL', 'ZKS_REGISTRY_URL', 'ZKS_TOKEN']) delete base[key];
  return { ...base, ...env };
}

export function runZks(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
  bin = ZKS_BIN,
): Promise<ZksRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: cleanEnv(env), cwd, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Parses the stdout of a `--json` run; the failure message shows what was printed. */
export function jsonOf<T>(run: ZksRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

/** A `zks` that keeps running (`audit --follow`): its output so far; stop() ends it. */
export interface RunningZks {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

export function startZks(args: readonly string[], env: Record<string, string> = {}): RunningZks {
  const child = spawn(process.execPath, [ZKS_BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
