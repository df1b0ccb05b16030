import type { ChildProcess } from 'node:child_process';

/**
 * Waiting for a test server's JVM to exit without letting a forgotten one keep
 * the test runner alive: one helper, used by stop() and kill().
 */

/** How many callers wait for each child's exit. */
const waiters = new WeakMap<ChildProcess, number>();

/**
 * True when the child exited within `timeoutMs` (forever when undefined). The
 * child is unref'd so a forgotten server cannot keep the runner alive, so it is
 * ref'd while someone waits for it: an awaited exit must keep Node running.
 */
export function exitedWithin(child: ChildProcess, timeoutMs?: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(true);
  }
  waiters.set(child, (waiters.get(child) ?? 0) + 1);
  child.ref();
  return new Promise((resolve) => {
    const done = (exited: boolean): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      const left = (waiters.get(child) ?? 1) - 1;
      waiters.set(child, left);
      if (left === 0) {
        child.unref();
      }
      resolve(exited);
    };
    const onExit = (): void => done(true);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(false), timeoutMs);
    child.once('exit', onExit);
  });
}
