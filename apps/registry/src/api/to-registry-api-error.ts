import { AuditUnavailableError, InvalidAuditQueryError, isUnavailable } from '@app/audit';
import { ApiError, toCommonApiError } from '@app/common/api';

/** The 503 of a history read while PostgreSQL cannot be reached. */
export function historyUnavailable(detail: string): ApiError {
  return new ApiError(
    'unavailable',
    `the audit history (PostgreSQL) is unavailable (${detail}); retry later`,
  );
}

/**
 * The client-facing meaning of an error of the registry's API: the shared ones
 * (ApiError, ZooKeeper outage), PostgreSQL unreachable (503), a query the
 * store refused (400 naming the parameter); undefined for a bug.
 */
export function toRegistryApiError(error: unknown): ApiError | undefined {
  if (error instanceof AuditUnavailableError || isUnavailable(error)) {
    return historyUnavailable(error instanceof Error ? error.message : String(error));
  }
  if (error instanceof InvalidAuditQueryError) return ApiError.field(error.parameter, error.reason);
  return toCommonApiError(error);
}
