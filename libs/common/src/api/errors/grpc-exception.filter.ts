import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { type Observable, throwError } from 'rxjs';
import type { FieldError } from '@app/contracts/dto/scheduler-api';
import { GRPC_STATUS_OF, type ApiError } from './api-error';
import { toCommonApiError } from './to-common-api-error';

/** Trailer with the field errors as JSON `[{ "field", "reason" }]`. */
export const ERRORS_TRAILER = 'errors-bin';

/**
 * Trailers are HTTP/2 headers: clients refuse a header block over their limit
 * (8 KiB by default in grpc-js, 16 KiB in Go) by tearing down the whole
 * connection, failing every other call on it. Field names can echo user input
 * (a label key), so the details and the trailer are cut to fit.
 */
export const MAX_TRAILER_BYTES = 2_000;
/** `grpc-message` is percent-encoded: up to 3 bytes on the wire per byte here. */
const MAX_DETAILS_BYTES = 1_000;
const MAX_FIELD_CHARS = 100;

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
      const errors = boundedErrors(api.errors);
      metadata.set(ERRORS_TRAILER, Buffer.from(JSON.stringify(errors), 'utf8'));
      // Bad input: every field in the message, for clients that read no trailers.
      if (api.kind === 'invalid' || api.kind === 'too_large') {
        details = `invalid request: ${errors.map((e) => `${e.field} ${e.reason}`).join('; ')}`;
      }
    }
    return grpcError(
      GRPC_STATUS_OF[api.kind],
      wellFormed(cutBytes(details, MAX_DETAILS_BYTES)),
      metadata,
    );
  }

  protected toApiError(exception: unknown): ApiError | undefined {
    return toCommonApiError(exception);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Lone surrogates (echoed user input, or a cut through a pair) become U+FFFD:
 * grpc-js percent-encodes `grpc-message` with encodeURI, which throws on them,
 * outside any handler, and the process dies.
 */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function cutBytes(text: string, maxBytes: number): string {
  let kept = text;
  while (Buffer.byteLength(kept) > maxBytes) kept = kept.slice(0, Math.floor(kept.length * 0.9));
  return kept === text ? text : `${kept}…`;
}

/** Field errors with long field names shortened, as many as fit in MAX_TRAILER_BYTES. */
function boundedErrors(errors: readonly FieldError[]): FieldError[] {
  const kept: FieldError[] = [];
  let bytes = 2;
  for (const [index, error] of errors.entries()) {
    const entry = { field: cut(error.field, MAX_FIELD_CHARS), reason: cut(error.reason, 200) };
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (bytes + size > MAX_TRAILER_BYTES - 100) {
      kept.push({ field: '', reason: `has ${errors.length - index} more errors` });
      break;
    }
    kept.push(entry);
    bytes += size;
  }
  return kept;
}

function grpcError(code: GrpcStatus, details: string, metadata = new Metadata()): GrpcError {
  return { code, details, message: details, metadata };
}
