import { STATUS_CODES } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { ApiErrorBody, FieldError } from '@app/contracts/dto/scheduler-api';
import { HTTP_STATUS_OF, type ApiError } from './api-error';
import { toCommonApiError } from './to-common-api-error';

/** Routes whose errors take the API's body shape; others (health, metrics, docs) keep Nest's. */
const API_PATH = /^\/v1(\/|\?|$)/;

/**
 * Every error of a service's `/v1` API as one JSON shape, `{ statusCode, error,
 * message, errors: [{ field, reason }] }`: validation and store errors, Nest's
 * own (no such route) and Express's body parser (malformed JSON, body too
 * large), which Nest hands to global filters. Anything unexpected is a logged
 * 500 that reveals nothing. A service maps its own domain errors by overriding
 * `toApiError`.
 */
@Catch()
export class ApiHttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');
  /** Nest's own filter, for other routes; built on first use (the adapter is set late). */
  private fallback: BaseExceptionFilter | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const http = host.switchToHttp();
    if (host.getType() !== 'http' || !API_PATH.test(adapter.getRequestUrl(http.getRequest()))) {
      this.fallback ??= new BaseExceptionFilter(adapter);
      this.fallback.catch(exception, host);
      return;
    }
    const body = this.bodyFor(exception);
    const response: unknown = http.getResponse();
    if (body.statusCode === HttpStatus.SERVICE_UNAVAILABLE) {
      adapter.setHeader(response, 'Retry-After', '1');
    }
    adapter.reply(response, body, body.statusCode);
  }

  /** The client-facing meaning of `exception`; undefined for a bug (a 500). */
  protected toApiError(exception: unknown): ApiError | undefined {
    return toCommonApiError(exception);
  }

  private bodyFor(exception: unknown): ApiErrorBody {
    const api = this.toApiError(exception);
    if (api) return errorBody(HTTP_STATUS_OF[api.kind], api.message, [...api.errors]);
    if (exception instanceof HttpException) return fromHttpException(exception);
    this.logger.error(exception);
    return errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'internal error', []);
  }
}

export function errorBody(statusCode: number, message: string, errors: FieldError[]): ApiErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, errors };
}

/** Nest's and Express's exceptions: the body parser's carry an http-errors `type`. */
function fromHttpException(exception: HttpException): ApiErrorBody {
  const status = exception.getStatus();
  const cause = exception.cause as
    { type?: unknown; limit?: unknown; length?: unknown } | undefined;
  const response = exception.getResponse();
  // Already in the API's shape (the auth guard's 401/403/429, which every route can answer).
  if (isApiErrorBody(response)) return response;
  const message =
    typeof response === 'string'
      ? response
      : String((response as { message?: unknown }).message ?? exception.message);
  switch (cause?.type) {
    case 'entity.parse.failed':
      return errorBody(status, `request body is not valid JSON: ${message}`, [
        { field: 'body', reason: `is not valid JSON (${message})` },
      ]);
    case 'entity.too.large':
      return errorBody(status, `request body is larger than ${String(cause.limit)} bytes`, [
        { field: 'body', reason: `must be at most ${String(cause.limit)} bytes` },
      ]);
    default:
      if (exception.cause instanceof URIError) {
        return errorBody(status, 'the request path has invalid percent-encoding', [
          { field: 'path', reason: 'has invalid percent-encoding' },
        ]);
      }
      return errorBody(status, message, []);
  }
}

function isApiErrorBody(value: unknown): value is ApiErrorBody {
  const body = value as Partial<ApiErrorBody> | null;
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof body.statusCode === 'number' &&
    typeof body.message === 'string' &&
    Array.isArray(body.errors)
  );
}
