import { ConfigValidationError, type Environment } from '@app/common';

/**
 * `WORKER_SHUTDOWN_GRACE_MS`: how long running tasks may go on after SIGTERM
 * before they are aborted and handed back. Worker-only, so it is read here
 * rather than in the shared AppConfig; a wrong value stops the worker with a
 * message naming the variable, like every other setting.
 */
export const SHUTDOWN_GRACE_VARIABLE = 'WORKER_SHUTDOWN_GRACE_MS';
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/** A day: a longer grace is a mistake, not a policy. */
export const MAX_SHUTDOWN_GRACE_MS = 86_400_000;

/** Injection token of the validated grace period (ms). */
export const SHUTDOWN_GRACE_MS = Symbol('SHUTDOWN_GRACE_MS');

export function loadShutdownGraceMs(env: Environment): number {
  const raw = env[SHUTDOWN_GRACE_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_SHUTDOWN_GRACE_MS;
  const problem = !/^\d+$/.test(raw)
    ? 'must be a whole number of milliseconds'
    : Number(raw) > MAX_SHUTDOWN_GRACE_MS
      ? `must be at most ${MAX_SHUTDOWN_GRACE_MS} (ms)`
      : undefined;
  if (problem !== undefined) {
    throw new ConfigValidationError([
      {
        variable: SHUTDOWN_GRACE_VARIABLE,
        message: `${SHUTDOWN_GRACE_VARIABLE} ${problem} (got "${raw}")`,
      },
    ]);
  }
  return Number(raw);
}
