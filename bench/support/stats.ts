/** Small statistics for benchmark reports: nearest-rank percentiles and min/median/max. */

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface Distribution {
  min: number;
  median: number;
  max: number;
  samples: number[];
}

/** Nearest-rank percentiles of `samples` (empty: every field 0). */
export function summarize(samples: readonly number[], digits = 1): Summary {
  if (samples.length === 0) return { count: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    min: round(sorted[0], digits),
    p50: round(at(0.5), digits),
    p90: round(at(0.9), digits),
    p99: round(at(0.99), digits),
    max: round(sorted[sorted.length - 1], digits),
    mean: round(sum / sorted.length, digits),
  };
}

export function distribution(samples: readonly number[], digits = 0): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length === 0
      ? 0
      : sorted.length % 2 === 1
        ? sorted[middle]
        : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    min: round(sorted[0] ?? 0, digits),
    median: round(median, digits),
    max: round(sorted.at(-1) ?? 0, digits),
    samples: samples.map((value) => round(value, digits)),
  };
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** `1,234` */
export function thousands(value: number): string {
  return value.toLocaleString('en-US');
}
