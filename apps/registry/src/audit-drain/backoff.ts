/**
 * Exponential, capped backoff of a failing step: 100 ms, 200 ms, … up to
 * `maxMs`, back to the floor after a success. With jitter, so that several
 * registries recovering from the same outage do not retry in step.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly maxMs: number,
    private readonly minMs = 100,
  ) {}

  /** The delay before the next attempt after one more failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
