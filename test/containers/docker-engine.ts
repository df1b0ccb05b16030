/**
 * The Docker engine for the smoke test. start(): uses the running one, or
 * starts `dockerd` in the background (its own process group, its output in a
 * temp file) and waits until it answers. close(): stops the engine by its pid
 * if start() started it (SIGTERM: dockerd stops its containers and its
 * containerd), and leaves a running one alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timing } from '@app/zk/testing';
import { runCommand } from './command';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export class DockerEngine {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logDir: string | undefined;

  /** True when this process started the engine (and so stops it). */
  get startedHere(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (await answers()) return;
    if (process.getuid?.() !== 0) {
      throw new Error('the Docker engine is not running, and only root can start it: run dockerd');
    }
    this.logDir = mkdtempSync(join(tmpdir(), 'zks-dockerd-'));
    const log = openSync(join(this.logDir, 'dockerd.log'), 'w');
    try {
      this.child = spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => undefined); // reported through `exited` and the wait below
    let gone = false;
    void this.exited.then(() => (gone = true));
    await timing.waitFor(
      async () => {
        if (gone) throw new Error(`dockerd exited during start:\n${this.logTail()}`);
        return answers();
      },
      {
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 250,
        message: () => `dockerd does not answer:\n${this.logTail()}`,
      },
    );
  }

  async close(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      try {
        await timing.withTimeout(this.exited, STOP_TIMEOUT_MS, 'dockerd stops on SIGTERM');
      } catch {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    if (this.logDir) rmSync(this.logDir, { recursive: true, force: true });
  }

  private logTail(lines = 20): string {
    try {
      return readFileSync(join(this.logDir!, 'dockerd.log'), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch (error: unknown) {
      return `(no log: ${(error as Error).message})`;
    }
  }
}

async function answers(): Promise<boolean> {
  const result = await runCommand('docker', ['version', '--format', '{{.Server.Version}}']);
  return result.code === 0;
}
