import { ConfigValidationError, type Environment } from '@app/common';

/**
 * A cap on a count the cluster holds (jobs, live tasks), from `variable`:
 * a whole number from 0 (no limit) to `ceiling`, `fallback` when unset.
 */
export function loadCountLimit(
  env: Environment,
  variable: string,
  fallback: number,
  ceiling: number,
): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > ceiling) {
    throw new ConfigValidationError([
      {
        variable,
        message: `${variable} must be a whole number from 0 (no limit) to ${ceiling} (got "${raw}")`,
      },
    ]);
  }
  return Number(raw);
}
