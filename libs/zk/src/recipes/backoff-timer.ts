import { Backoff } from '../client/backoff';

/**
 * Spaces out the retries of a background step (a Backoff on a timer): the
 * delay doubles after each failure up to a ceiling and returns to the floor
 * after a success.
 */
export class BackoffTimer {
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;

  constructor(minMs = 100, maxMs = 2_000) {
    this.backoff = new Backoff({ minMs, maxMs });
  }

  /** True while a retry is waiting to run. */
  get isWaiting(): boolean {
    return this.timer !== undefined;
  }

  /** Runs `step` after the current delay (and doubles the next one). */
  schedule(step: () => void): void {
    const delay = this.backoff.next();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      step();
    }, delay);
    this.timer.unref();
  }

  /** A success: the next failure waits the shortest delay again. */
  reset(): void {
    this.backoff.reset();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
