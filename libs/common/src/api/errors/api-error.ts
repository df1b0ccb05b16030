import { HttpStatus } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FieldError } from '@app/contracts/dto/scheduler-api';

/** What went wrong, independent of the transport (HTTP status, gRPC code). */
export type ApiErrorKind =
  | 'invalid'
  | 'too_large'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'unavailable'
  | 'unauthenticated'
  | 'forbidden'
  | 'rate_limited'
  /** A count the deployment caps (API_MAX_JOBS) is reached. */
  | 'limit_reached';

export const HTTP_STATUS_OF: Readonly<Record<ApiErrorKind, HttpStatus>> = {
  invalid: HttpStatus.BAD_REQUEST,
  too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  not_found: HttpStatus.NOT_FOUND,
  already_exists: HttpStatus.CONFLICT,
  failed_precondition: HttpStatus.CONFLICT,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  limit_reached: HttpStatus.CONFLICT,
};

export const GRPC_STATUS_OF: Readonly<Record<ApiErrorKind, GrpcStatus>> = {
  invalid: GrpcStatus.INVALID_ARGUMENT,
  too_large: GrpcStatus.RESOURCE_EXHAUSTED,
  not_found: GrpcStatus.NOT_FOUND,
  already_exists: GrpcStatus.ALREADY_EXISTS,
  failed_precondition: GrpcStatus.FAILED_PRECONDITION,
  unavailable: GrpcStatus.UNAVAILABLE,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  forbidden: GrpcStatus.PERMISSION_DENIED,
  rate_limited: GrpcStatus.RESOURCE_EXHAUSTED,
  limit_reached: GrpcStatus.RESOURCE_EXHAUSTED,
};

/** An answer the client must see as it is: a 4xx (or 503) naming the fields at fault. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Bad input: the message repeats the first problem so that logs and CLIs show it. */
  static invalid(
    errors: readonly FieldError[],
    kind: ApiErrorKind = 'invalid',
    total = errors.length,
  ): ApiError {
    const [first] = errors;
    const more = total > 1 ? ` (and ${total - 1} more)` : '';
    const summary = first ? `${first.field ? `${first.field} ` : ''}${first.reason}` : 'invalid';
    return new ApiError(kind, `invalid request: ${summary}${more}`, errors);
  }

  static field(field: string, reason: string, kind: ApiErrorKind = 'invalid'): ApiError {
    return ApiError.invalid([{ field, reason }], kind);
  }

  /**
   * ZooKeeper cannot be reached. A write that failed this way may still have
   * been applied (connection loss: outcome unknown): the message says so, so
   * that clients retry idempotently.
   */
  static zooKeeperUnavailable(detail: string): ApiError {
    return new ApiError(
      'unavailable',
      `ZooKeeper is unavailable (${detail}); retry later. A write answered this way ` +
        'may or may not have been applied: resubmit tasks with the same idempotencyKey',
    );
  }
}
