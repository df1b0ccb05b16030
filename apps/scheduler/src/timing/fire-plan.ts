import type { MisfirePolicy } from '@app/contracts';
import type { FireSchedule } from './fire-schedule';

export interface FirePlanInput {
  schedule: FireSchedule;
  policy: MisfirePolicy;
  /** The last instant fired or skipped (or the job's creation): later ones are due. */
  baseline: number;
  now: number;
  /** Instants older than this at `now` are missed; younger ones are merely late and fire. */
  misfireThresholdMs: number;
  /** `fire_all` fires at most this many missed instants (the latest ones). */
  fireAllCap: number;
}

export interface FirePlan {
  /** Instants to fire now, ascending. */
  fire: number[];
  /** Missed instants skipped by the policy (counted; the oldest and latest named). */
  skipped: { count: number; first?: number; last?: number };
  /** The new `lastFireAt` once the plan is applied (undefined: nothing was due). */
  lastFireAt?: number;
  /** The next instant after `now`, or null when the job fires no more. */
  nextFireAt: number | null;
}

/** How many missed instants are enumerated one by one before the rest is found by search. */
const SCAN_LIMIT = 10_000;

/**
 * What a leader does with a job's instants between its last fire and now —
 * after its own election, or when a paused job resumes. Pure: tested without
 * ZooKeeper or clocks.
 */
export function planFires(input: FirePlanInput): FirePlan {
  const { schedule, policy, baseline, now } = input;
  const missedUpTo = now - input.misfireThresholdMs;
  const late = schedule.between(Math.max(baseline, missedUpTo), now, SCAN_LIMIT).instants;
  const missed = missedInstants(
    schedule,
    baseline,
    missedUpTo,
    policy === 'fire_all' ? input.fireAllCap : 1,
  );

  let fire: number[] = [];
  if (policy === 'fire_once') fire = missed.latest.slice(-1);
  if (policy === 'fire_all') fire = missed.latest;
  const skippedCount = missed.count - fire.length;
  const skipped =
    skippedCount > 0
      ? {
          count: skippedCount,
          first: missed.first,
          last: skippedLast(missed.latest, fire.length, missed),
        }
      : { count: 0 };
  fire = [...fire, ...late];
  const lastFireAt = fire.at(-1) ?? skipped.last;
  return {
    fire,
    skipped,
    ...(lastFireAt === undefined ? {} : { lastFireAt }),
    nextFireAt: schedule.next(now),
  };
}

interface Missed {
  count: number;
  first?: number;
  /** The latest `keep` missed instants, ascending. */
  latest: number[];
  /** The latest missed instant that is not among `latest`'s kept ones, if known. */
  beforeLatest?: number;
}

function missedInstants(schedule: FireSchedule, from: number, to: number, keep: number): Missed {
  if (to <= from) return { count: 0, latest: [] };
  const scan = schedule.between(from, to, SCAN_LIMIT);
  if (!scan.truncated) {
    const latest = scan.instants.slice(-keep);
    return {
      count: scan.instants.length,
      first: scan.instants[0],
      latest,
      beforeLatest: scan.instants.at(-latest.length - 1),
    };
  }
  // Very many missed instants (a long outage of a frequent job): find the latest
  // ones by widening a window back from `to`, instead of walking all of them.
  let window = 60_000;
  let tail = schedule.between(to - window, to, SCAN_LIMIT);
  while (tail.instants.length <= keep && to - window > from) {
    window *= 2;
    tail = schedule.between(Math.max(from, to - window), to, SCAN_LIMIT);
  }
  const latest = tail.instants.slice(-keep);
  return {
    // At least this many; the exact count is not worth the walk.
    count: Math.max(SCAN_LIMIT, tail.instants.length),
    first: scan.instants[0],
    latest,
    beforeLatest: tail.instants.at(-latest.length - 1),
  };
}

function skippedLast(latest: number[], fired: number, missed: Missed): number | undefined {
  // The skipped ones are all but the fired tail: the latest skipped is just before it.
  return fired === 0 ? latest.at(-1) : missed.beforeLatest;
}
