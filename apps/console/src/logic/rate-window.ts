import { TASK_RATE_TYPES } from '@app/contracts/dto/registry-api';

/** The outcomes GET /v1/task-rates counts, in the order the chart draws them. */
export const RATE_OUTCOMES = TASK_RATE_TYPES;

export type RateOutcome = (typeof RATE_OUTCOMES)[number];

/**
 * The tasks-per-second chart's data: counts by outcome in a sliding window of
 * whole seconds, filled from GET /v1/task-rates and then from live events.
 * Seconds without events are zeros, so the chart shows quiet time as quiet.
 */
export class RateWindow {
  private readonly counts = new Map<number, Partial<Record<RateOutcome, number>>>();

  constructor(private readonly seconds = 900) {}

  /** Adds `count` events of `type` in the second `at` (epoch seconds); others are ignored. */
  add(at: number, type: string, count = 1): void {
    if (!(RATE_OUTCOMES as readonly string[]).includes(type)) return;
    const bucket = this.counts.get(at) ?? {};
    bucket[type as RateOutcome] = (bucket[type as RateOutcome] ?? 0) + count;
    this.counts.set(at, bucket);
  }

  /** The window ending at `now` (epoch seconds): x and one array per outcome. */
  series(now: number): { x: number[]; values: Record<RateOutcome, number[]> } {
    const start = now - this.seconds + 1;
    for (const at of this.counts.keys()) if (at < start) this.counts.delete(at);
    const x: number[] = [];
    const values = Object.fromEntries(RATE_OUTCOMES.map((o) => [o, [] as number[]])) as Record<
      RateOutcome,
      number[]
    >;
    for (let at = start; at <= now; at++) {
      x.push(at);
      const bucket = this.counts.get(at);
      for (const outcome of RATE_OUTCOMES) values[outcome].push(bucket?.[outcome] ?? 0);
    }
    return { x, values };
  }

  /** Events of `type` in the last `seconds` before `now`, per second. */
  recentRate(type: RateOutcome, now: number, seconds = 60): number {
    let total = 0;
    for (let at = now - seconds + 1; at <= now; at++) total += this.counts.get(at)?.[type] ?? 0;
    return total / seconds;
  }
}
