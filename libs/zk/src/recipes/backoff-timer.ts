/**
 * Spaces out the retries of a background step: the delay doubles after each
 * failure up to a ceiling and returns to the floor after a success.
 */
export class BackoffTimer {
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly minMs = 100,
    private readonly maxMs = 2_000,
  ) {
    this.delayMs = minMs;
  }

  /** True while a retry is waiting to run. */
  get isWaiting(): boolean {
    return this.timer !== undefined;
  }

  /** Runs `step` after the current delay (and doubles the next one). */
  schedule(step: () => void): void {
    const delay = this.delayMs;
    this.delayMs = Math.min(this.maxMs, this.delayMs * 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      step();
    }, delay);
    this.timer.unref();
  }

  /** A success: the next failure waits the shortest delay again. */
  reset(): void {
    this.delayMs = this.minMs;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
