export interface BackoffOptions {
  /** The first delay. */
  minMs: number;
  /** The ceiling the delays double up to. */
  maxMs: number;
  /**
   * Share of a delay taken off at random (0: none; 0.2: each delay is 80–100 %
   * of its base), so that processes recovering from the same outage do not
   * retry in step.
   */
  jitter?: number;
}

/**
 * Exponential, capped backoff of a failing step: `minMs`, doubling up to
 * `maxMs`, back to `minMs` after a success. The one rule behind every retry
 * delay: the client's retried reads, the recipes' background steps, the
 * registry's drain.
 */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions) {}

  /**
   * The delay after `failures` earlier failures (0: the first delay), for a
   * retry whose count is kept elsewhere (a row in PostgreSQL: webhook deliveries).
   */
  static delayAfter(options: BackoffOptions, failures: number): number {
    const { minMs, maxMs, jitter = 0 } = options;
    const base = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(failures, 0), 30));
    return Math.round(base * (1 - jitter + Math.random() * jitter));
  }

  /** The delay before the next attempt after one more failure. */
  next(): number {
    const delay = Backoff.delayAfter(this.options, this.failures);
    this.failures += 1;
    return delay;
  }

  reset(): void {
    this.failures = 0;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }
}
