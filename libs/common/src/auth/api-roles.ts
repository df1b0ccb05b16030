import { SetMetadata } from '@nestjs/common';

/**
 * Roles of API tokens, each allowing what the one before allows and more:
 * `reader` reads (jobs, tasks, cluster, audit, events); `submitter` also
 * submits and cancels tasks and triggers jobs; `admin` also creates, changes
 * and deletes jobs.
 */
export const API_ROLES = ['reader', 'submitter', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export function isApiRole(value: unknown): value is ApiRole {
  return typeof value === 'string' && (API_ROLES as readonly string[]).includes(value);
}

/** True when a token of role `held` may do what needs `required`. */
export function roleAllows(held: ApiRole, required: ApiRole): boolean {
  return API_ROLES.indexOf(held) >= API_ROLES.indexOf(required);
}

export const REQUIRED_ROLE = 'zks:requiredRole';
export const PUBLIC_ROUTE = 'zks:publicRoute';
export const METRICS_ROUTE = 'zks:metricsRoute';

/**
 * The least role a handler needs. Without it, reads (HTTP GET/HEAD, gRPC
 * `Get*`/`List*`/`Query*`/`Stream*`) need `reader` and anything else `admin`:
 * a new write endpoint is closed until someone decides who may call it.
 */
export const RequireRole = (role: ApiRole): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_ROLE, role);

/** Open even when tokens are configured (health probes). */
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** Open unless API_METRICS_REQUIRE_TOKEN is true; then any valid token may scrape. */
export const MetricsRoute = (): MethodDecorator & ClassDecorator =>
  SetMetadata(METRICS_ROUTE, true);

export const WRITE_COST = 'zks:writeCost';

/**
 * How many writes a call counts for in the rate limit, computed from its
 * input (the HTTP body, the gRPC message) before validation. Default 1.
 */
export const WriteCost = (cost: (input: unknown) => number): MethodDecorator =>
  SetMetadata(WRITE_COST, cost);

/** A cost of one per element of the array `field` (at least 1), e.g. the tasks of a batch. */
export const perItemOf =
  (field: string) =>
  (input: unknown): number => {
    const items = (input as Record<string, unknown> | null | undefined)?.[field];
    return Array.isArray(items) ? Math.max(1, items.length) : 1;
  };
