import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { type Observable, throwError } from 'rxjs';
import { GRPC_STATUS_OF, type ApiError } from './api-error';
import { toCommonApiError } from './to-common-api-error';

/** Trailer with the field errors as JSON `[{ "field", "reason" }]`. */
export const ERRORS_TRAILER = 'errors-bin';

type GrpcError = Pick<ServiceError, 'code' | 'details' | 'metadata'> & { message: string };

/**
 * gRPC statuses for an API's errors: INVALID_ARGUMENT with every field and
 * reason in the message and in the `errors-bin` trailer, NOT_FOUND,
 * ALREADY_EXISTS, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, UNAVAILABLE; anything
 * else is a logged INTERNAL that reveals nothing. A service maps its own domain
 * errors by overriding `toApiError`.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcApi');

  catch(exception: unknown): Observable<never> {
    return throwError(() => this.grpcErrorFor(exception));
  }

  /** The gRPC status for `exception` (also for handlers that fail a stream themselves). */
  grpcErrorFor(exception: unknown): GrpcError {
    const api = this.toApiError(exception);
    if (!api) {
      this.logger.error(exception);
      return grpcError(GrpcStatus.INTERNAL, 'internal error');
    }
    const metadata = new Metadata();
    let details = api.message;
    if (api.errors.length > 0) {
      metadata.set(ERRORS_TRAILER, Buffer.from(JSON.stringify(api.errors), 'utf8'));
      // Bad input: every field in the message, for clients that read no trailers.
      if (api.kind === 'invalid' || api.kind === 'too_large') {
        details = `invalid request: ${api.errors.map((e) => `${e.field} ${e.reason}`).join('; ')}`;
      }
    }
    return grpcError(GRPC_STATUS_OF[api.kind], details, metadata);
  }

  protected toApiError(exception: unknown): ApiError | undefined {
    return toCommonApiError(exception);
  }
}

function grpcError(code: GrpcStatus, details: string, metadata = new Metadata()): GrpcError {
  return { code, details, message: details, metadata };
}
