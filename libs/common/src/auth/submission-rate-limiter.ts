/**
 * A token bucket per API token name: `perMinute` writes a minute, refilled
 * continuously, with a burst of the same size. In memory, per process: each
 * scheduler replica limits on its own (a client spreading calls over N
 * replicas gets N times the rate), which bounds abuse without coordination.
 */
export class SubmissionRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly ratePerMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ratePerMs = perMinute / 60_000;
  }

  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** The most writes one call may count for (a larger batch can never pass). */
  get burst(): number {
    return this.perMinute;
  }

  /**
   * Takes `cost` writes from `key`'s bucket; returns the ms until that many
   * are available when there are fewer, else 0 (and takes nothing then).
   */
  take(key: string, cost = 1): number {
    if (!this.enabled) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.ratePerMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil((cost - bucket.tokens) / this.ratePerMs);
  }
}
