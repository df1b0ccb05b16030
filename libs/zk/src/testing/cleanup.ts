/**
 * No orphans: every JVM the harness starts is killed, and every temp folder
 * removed, when the Node process ends — normally, on an uncaught error, or on
 * SIGINT/SIGTERM/SIGHUP. A JVM is also started under `setpriv --pdeathsig KILL`
 * (util-linux, Linux) when available, so even a SIGKILLed test process takes
 * its servers with it.
 *
 * Jest gives each test file its own copy of `process` (listeners added to it
 * never hear the real exit) and its own module registry. So the hooks go on
 * the host process, reached through `vm.runInThisContext`, and the registry
 * of pids and folders lives there too, shared by every test file a jest
 * worker runs: the hooks are installed once per process, not once per file.
 *
 * A SIGKILLed runner cannot remove its folders: each folder carries an owner
 * file with the pid, and the first use of the harness in a process removes
 * harness folders in os.tmpdir() whose owner is no longer alive.
 *
 * The JVMs stay in the test runner's process group: a Ctrl-C in the terminal
 * reaches them as well, which is the point (nothing survives the run).
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';

interface CleanupRegistry {
  readonly pids: Set<number>;
  readonly dirs: Set<string>;
}

const REGISTRY_KEY = Symbol.for('zk-scheduler.testing.cleanup-registry');
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** Names the pid of the process that owns a harness temp folder. */
export const OWNER_FILE = '.zk-harness-owner';
/** Prefix of every harness temp folder name. */
export const TEMP_DIR_PREFIX = 'zk-test-';

type HostProcess = NodeJS.Process & { [REGISTRY_KEY]?: CleanupRegistry };

function hostProcess(): HostProcess {
  try {
    const host: unknown = runInThisContext('process');
    if (
      typeof host === 'object' &&
      host !== null &&
      typeof (host as NodeJS.Process).pid === 'number'
    ) {
      return host as HostProcess;
    }
  } catch {
    // Not expected; fall back to this context's process.
  }
  return process as HostProcess;
}

function killAllNow(registry: CleanupRegistry): void {
  for (const pid of registry.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  registry.pids.clear();
  for (const dir of registry.dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // Best effort at exit.
    }
  }
  registry.dirs.clear();
}

function registry(): CleanupRegistry {
  const host = hostProcess();
  const existing = host[REGISTRY_KEY];
  if (existing !== undefined) {
    return existing;
  }
  const created: CleanupRegistry = { pids: new Set(), dirs: new Set() };
  host[REGISTRY_KEY] = created;
  sweepStaleTempDirs();
  host.on('exit', () => killAllNow(created));
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      killAllNow(created);
      // If nobody else handles the signal, restore the default action (die by it).
      if (host.listenerCount(signal) === 1) {
        host.removeListener(signal, onSignal);
        host.kill(host.pid, signal);
      }
    };
    host.on(signal, onSignal);
  }
  return created;
}

/** Kills `child` (SIGKILL) when this process ends, unless it has exited by then. */
export function trackProcess(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) {
    return;
  }
  const pids = registry().pids;
  pids.add(pid);
  child.once('exit', () => pids.delete(pid));
}

/**
 * Removes `dir` (recursively) when this process ends, unless `untrackTempDir`
 * was called; marks it as owned by this process for later sweeps.
 */
export function trackTempDir(dir: string): void {
  registry().dirs.add(dir);
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes harness folders left by processes that died without cleaning up (SIGKILL). */
export function sweepStaleTempDirs(parent: string = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(parent).filter((name) => name.startsWith(TEMP_DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(parent, name);
    try {
      const owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        rmSync(dir, { recursive: true, force: true });
      }
    } catch {
      // No owner file (not ours, or being created): leave it.
    }
  }
}

export function untrackTempDir(dir: string): void {
  registry().dirs.delete(dir);
}

/** Pids of harness JVMs still running in this process (a test can assert none leaked). */
export function trackedProcessIds(): number[] {
  return [...registry().pids];
}

/** Kills every tracked JVM and removes every tracked folder now. */
export function cleanupNow(): void {
  killAllNow(registry());
}

let guardPrefix: string[] | undefined;

/**
 * Command prefix that makes the kernel SIGKILL the child when this process
 * dies (`setpriv --pdeathsig KILL --`), or `[]` where setpriv is missing.
 */
export function parentDeathGuard(): string[] {
  if (guardPrefix === undefined) {
    guardPrefix = [];
    if (process.platform === 'linux') {
      for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
        try {
          if (statSync(candidate).isFile()) {
            guardPrefix = [candidate, '--pdeathsig', 'KILL', '--'];
            break;
          }
        } catch {
          // Try the next one.
        }
      }
    }
  }
  return guardPrefix;
}
