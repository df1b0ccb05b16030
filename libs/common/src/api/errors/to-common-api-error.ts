import {
  ClientClosedError,
  ConnectionLossError,
  OperationTimeoutError,
  SessionExpiredError,
} from '@app/zk';
import { ApiError } from './api-error';

/**
 * What every service's API makes of an error: its own ApiError as it is, a
 * ZooKeeper outage as a 503; undefined for anything else (a bug, or a domain
 * error the service maps itself).
 */
export function toCommonApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (isZooKeeperOutage(error)) return ApiError.zooKeeperUnavailable(error.message);
  return undefined;
}

export function isZooKeeperOutage(error: unknown): error is Error {
  return (
    error instanceof ConnectionLossError ||
    error instanceof SessionExpiredError ||
    error instanceof ClientClosedError ||
    error instanceof OperationTimeoutError
  );
}
