import type { ZkClient } from '@app/zk';
import { ZkLayout } from '@app/contracts';

/** One look at the outbox: ms since the sampler started, and nodes waiting then. */
export interface DepthSample {
  atMs: number;
  depth: number;
}

/**
 * The audit outbox's depth over time (`exists` of `/audit/outbox`: one small
 * request per sample, from the benchmark's own session), for a run with the
 * drain on: how far the drain falls behind, and when it has caught up.
 */
export class OutboxDepth {
  readonly samples: DepthSample[] = [];
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly zk: ZkClient,
    private readonly everyMs = 250,
  ) {}

  /** Nodes waiting now. */
  async depth(): Promise<number> {
    return (await this.zk.exists(ZkLayout.outbox))?.numChildren ?? 0;
  }

  start(): void {
    const tick = (): void => {
      this.sampling = this.depth().then(
        (depth) => void this.samples.push({ atMs: Date.now() - this.startedAt, depth }),
        () => undefined, // a missed sample is a gap in the series, nothing more
      );
      this.timer = setTimeout(tick, this.everyMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.sampling;
  }

  /** Until the outbox holds at most `nearEmpty` nodes; the time that took, or undefined after `timeoutMs`. */
  async waitUntilDrained(nearEmpty: number, timeoutMs: number): Promise<number | undefined> {
    const from = Date.now();
    while (Date.now() - from <= timeoutMs) {
      if ((await this.depth()) <= nearEmpty) return Date.now() - from;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  /** The deepest sample per `bucketMs` window: the series a report prints. */
  series(bucketMs = 1_000): DepthSample[] {
    const buckets = new Map<number, number>();
    for (const { atMs, depth } of this.samples) {
      const bucket = Math.floor(atMs / bucketMs) * bucketMs;
      buckets.set(bucket, Math.max(buckets.get(bucket) ?? 0, depth));
    }
    return [...buckets].map(([atMs, depth]) => ({ atMs, depth }));
  }

  max(): number {
    return this.samples.reduce((max, s) => Math.max(max, s.depth), 0);
  }
}
