/** What users define; stored as JSON in `/jobs/<id>`, versioned by the znode version. */

export const CONCURRENCY_POLICIES = ['allow', 'forbid', 'replace'] as const;
/** What a cron fire does while the job's previous task is still running. */
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

export const MISFIRE_POLICIES = ['skip', 'fire_once', 'fire_all'] as const;
/** What happens to instants missed while no leader ran or while the job was paused. */
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number];

export interface RetrySpec {
  /** Attempts in all that may fail before the task fails for good (≥ 1). */
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubles for each further one. */
  backoffMs: number;
}

export interface Selector {
  /** A worker qualifies when it carries every one of these labels with the same value. */
  labels: Record<string, string>;
}

/** Fields a job shares with the tasks it fires. */
export interface TaskTemplate {
  /** Handler name, e.g. `noop`, `http`, `logs.compress`. */
  type: string;
  payload: unknown;
  retry: RetrySpec;
  /** The worker aborts an attempt after this long; the leader fails it after a grace. */
  timeoutMs?: number;
  selector?: Selector;
  /** Gang size: the task runs on this many distinct workers that start together. */
  parallelism: number;
}

export interface JobSpec extends TaskTemplate {
  name: string;
  /** Cron, 5 fields (minute precision) or 6 (leading seconds). Exclusive with `runAt`. */
  schedule?: string;
  /** IANA time zone of `schedule`. */
  timezone: string;
  /** One-off fire time (epoch ms). Exclusive with `schedule`. */
  runAt?: number;
  concurrency: ConcurrencyPolicy;
  misfire: MisfirePolicy;
  paused: boolean;
}

export interface JobRecord extends JobSpec {
  id: string;
  /** The name of the API token that created it (kept across changes); unset without tokens. */
  owner?: string;
  createdAt: number;
  updatedAt: number;
}

/** Leader-owned progress of a job: `/jobstate/<id>`. */
export interface JobState {
  /** The last instant fired (or skipped by policy); misfires are counted from here. */
  lastFireAt?: number;
  /** The next instant due, or null when the job will not fire again. */
  nextFireAt: number | null;
  /** `updatedAt` of the job definition this was planned from: older means stale. */
  jobUpdatedAt?: number;
}

export const DEFAULT_RETRY: RetrySpec = { maxAttempts: 1, backoffMs: 1_000 };
export const DEFAULT_TIMEZONE = 'UTC';
