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
 * own (no such route) and Fastify's body parsing (malformed JSON, body too
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
    const body = this.bodyFor(exception, bodyLimitOf(http.getRequest()));
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

  private bodyFor(exception: unknown, bodyLimit: number | undefined): ApiErrorBody {
    const api = this.toApiError(exception);
    if (api) return errorBody(HTTP_STATUS_OF[api.kind], api.message, [...api.errors]);
    if (exception instanceof HttpException) return fromHttpException(exception, bodyLimit);
    this.logger.error(exception);
    return errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'internal error', []);
  }
}

export function errorBody(statusCode: number, message: string, errors: FieldError[]): ApiErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, errors };
}

/** The body limit of the route Fastify matched (httpAdapter's, unless a route sets its own). */
function bodyLimitOf(request: unknown): number | undefined {
  return (request as { routeOptions?: { bodyLimit?: number } } | undefined)?.routeOptions
    ?.bodyLimit;
}

/**
 * Nest's exceptions, and Fastify's body errors that Nest wraps in one (the
 * original, a FastifyError, as `cause`).
 */
function fromHttpException(exception: HttpException, bodyLimit: number | undefined): ApiErrorBody {
  const status = exception.getStatus();
  const cause = exception.cause as { code?: unknown } | undefined;
  const response = exception.getResponse();
  // Already in the API's shape (the auth guard's 401/403/429, which every route can answer).
  if (isApiErrorBody(response)) return response;
  const message =
    typeof response === 'string'
      ? response
      : String((response as { message?: unknown }).message ?? exception.message);
  if (
    cause?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    cause?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
  ) {
    return errorBody(status, `request body is not valid JSON: ${message}`, [
      { field: 'body', reason: `is not valid JSON (${message})` },
    ]);
  }
  if (cause?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = bodyLimit === undefined ? 'the limit' : `${bodyLimit} bytes`;
    return errorBody(status, `request body is larger than ${limit}`, [
      { field: 'body', reason: `must be at most ${limit}` },
    ]);
  }
  return errorBody(status, message, []);
}

/** Fastify's answer to a path it cannot decode (before any route or filter runs). */
export const BAD_PATH_ERROR_BODY: ApiErrorBody = errorBody(
  HttpStatus.BAD_REQUEST,
  'the request path has invalid percent-encoding',
  [{ field: 'path', reason: 'has invalid percent-encoding' }],
);

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
