import { ConfigValidationError, type ConfigProblem, type Environment } from '@app/common';

/** Leader timing knobs, from the environment (validated like the rest of the config). */
export interface SchedulerTuning {
  /**
   * Fires of `allow` jobs are created this long before their instant, so workers
   * start on time. Not a whole number of seconds: with cron instants on whole
   * seconds, the leader would assign T+1 while busy with the completions of T.
   */
  fireLeadMs: number;
  /** An instant older than this when the leader gets to it counts as missed (misfire policy). */
  misfireThresholdMs: number;
  /** `fire_all` fires at most this many missed instants per job; older ones are skipped. */
  fireAllCap: number;
  /** The leader fails an attempt this long after its timeout if the worker never reported. */
  timeoutGraceMs: number;
  /**
   * Job change notes are deleted this long after the leader first saw them; a
   * replica away for longer rebuilds its job view from the jobs themselves.
   */
  jobChangesRetentionMs: number;
}

const VARIABLES: Record<
  keyof SchedulerTuning,
  [name: string, fallback: number, min: number, max: number]
> = {
  fireLeadMs: ['SCHEDULER_FIRE_LEAD_MS', 1_500, 0, 60_000],
  misfireThresholdMs: ['SCHEDULER_MISFIRE_THRESHOLD_MS', 5_000, 0, 3_600_000],
  fireAllCap: ['SCHEDULER_FIRE_ALL_CAP', 100, 1, 100_000],
  timeoutGraceMs: ['SCHEDULER_TIMEOUT_GRACE_MS', 5_000, 0, 3_600_000],
  jobChangesRetentionMs: ['SCHEDULER_JOB_CHANGES_RETENTION_MS', 30_000, 1_000, 3_600_000],
};

export function loadSchedulerTuning(env: Environment): SchedulerTuning {
  const problems: ConfigProblem[] = [];
  const tuning = {} as SchedulerTuning;
  for (const [key, [name, fallback, min, max]] of Object.entries(VARIABLES)) {
    const raw = env[name]?.trim();
    const value = raw ? Number(raw) : fallback;
    if (!/^\d+$/.test(raw || String(fallback)) || value < min || value > max) {
      problems.push({
        variable: name,
        message: `${name} must be an integer from ${min} to ${max} (got "${raw}")`,
      });
    }
    tuning[key as keyof SchedulerTuning] = value;
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return tuning;
}

/** Injection token for the tuning. */
export const SCHEDULER_TUNING = Symbol('SCHEDULER_TUNING');
