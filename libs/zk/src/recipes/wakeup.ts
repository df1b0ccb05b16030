import { abortReason } from './sequential-nodes';

/**
 * A latch a waiter sleeps on: `signal()` (a watcher, a new batch) wakes the
 * wait in progress, or the next one if none is waiting (a signal is never
 * lost); each wait consumes it. `wait` resolves 'woken' or 'timeout', and
 * rejects with the abort reason when `abort` fires (session lost, recipe
 * closed), so a wait never outlives what it waits for.
 */
export class Wakeup {
  private signalled = false;
  private wake: (() => void) | undefined;

  readonly signal = (): void => {
    this.signalled = true;
    this.wake?.();
  };

  /** `timeoutMs` undefined: no time limit. */
  wait(timeoutMs?: number, abort?: AbortSignal): Promise<'woken' | 'timeout'> {
    if (abort?.aborted) return Promise.reject(abortReason(abort));
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve('woken');
    }
    return new Promise((resolve, reject) => {
      const finish = (outcome: 'woken' | 'timeout' | Error): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        if (outcome instanceof Error) reject(outcome);
        else {
          if (outcome === 'woken') this.signalled = false;
          resolve(outcome);
        }
      };
      const onAbort = (): void => finish(abortReason(abort!));
      // No limit needs no timer (setTimeout would overflow to 1 ms).
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => finish('timeout'), timeoutMs);
      this.wake = () => finish('woken');
      abort?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
