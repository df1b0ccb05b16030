import type { ConcurrencyPolicy } from '@app/contracts';

export interface ConcurrencyDecision {
  /** Instants to fire, ascending. */
  fire: number[];
  /** Instants recorded as skipped instead. */
  skipped: number[];
  reason?: 'previous still running' | 'one at a time';
}

/**
 * Which of the instants due at once (a catch-up after a hand-over, a pause, a
 * change) a job's concurrency policy lets fire, `running` of its tasks being
 * live: with `forbid` or `replace` at most one task of the job runs, so only the
 * latest can fire (`forbid`: and only when none runs; `replace` cancels the
 * running ones). Pure: tested without ZooKeeper.
 */
export function applyConcurrency(
  policy: ConcurrencyPolicy,
  instants: readonly number[],
  running: number,
): ConcurrencyDecision {
  if (policy === 'allow' || instants.length === 0) return { fire: [...instants], skipped: [] };
  const blocked = policy === 'forbid' && running > 0;
  const fire = blocked ? [] : instants.slice(-1);
  return {
    fire,
    skipped: instants.slice(0, instants.length - fire.length),
    reason: blocked ? 'previous still running' : 'one at a time',
  };
}
