import { STATUS_CODES } from 'node:http';
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Metadata } from '@grpc/grpc-js';
import type { FieldError } from '@app/contracts/dto/scheduler-api';
import { ApiError, HTTP_STATUS_OF, type ApiErrorKind } from '../api/errors/api-error';
import type { ApiAuthSettings } from './api-auth-settings';
import {
  METRICS_ROUTE,
  PUBLIC_ROUTE,
  REQUIRED_ROLE,
  WRITE_COST,
  roleAllows,
  type ApiRole,
} from './api-roles';
import { ApiTokens, bearerToken } from './api-tokens';
import type { Principal } from './request-principal';
import { SubmissionRateLimiter } from './submission-rate-limiter';

export const API_AUTH_SETTINGS = Symbol('API_AUTH_SETTINGS');

/** The principal of each authenticated call, keyed by its request (HTTP) or metadata (gRPC). */
export const callPrincipals = new WeakMap<object, Principal>();

/** Writes by clients that send no token (tokens not configured) share one bucket. */
const ANONYMOUS = 'anonymous';
const GRPC_READ = /^(get|list|query|stream|watch)/i;

interface HttpRequestLike {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}
/** Fastify's reply (httpAdapter). */
interface HttpResponseLike {
  header(name: string, value: string): unknown;
}

/**
 * Every HTTP route and gRPC method of the application: with tokens configured
 * a call needs `Authorization: Bearer <token>` (gRPC: `authorization`
 * metadata) of a role that may make it — 401 / UNAUTHENTICATED without a valid
 * token, 403 / PERMISSION_DENIED for a weaker role. Writes are rate limited
 * per token name when API_RATE_LIMIT_PER_MINUTE is set (429 /
 * RESOURCE_EXHAUSTED). Health is always open, metrics unless configured.
 * Without tokens everything is open (a warning is logged at start).
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: ApiTokens,
    private readonly limiter: SubmissionRateLimiter,
    @Inject(API_AUTH_SETTINGS) private readonly settings: ApiAuthSettings,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const type = context.getType();
    if (type !== 'http' && type !== 'rpc') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const metrics = this.reflector.getAllAndOverride<boolean>(METRICS_ROUTE, targets) ?? false;
    if (metrics && !this.settings.metricsRequireToken) return true;
    const required: ApiRole = metrics
      ? 'reader'
      : (this.reflector.getAllAndOverride<ApiRole>(REQUIRED_ROLE, targets) ?? defaultRole(context));

    let principal: Principal | undefined;
    if (this.tokens.enabled) {
      const header = authorizationOf(context);
      const presented = bearerToken(header);
      if (presented === undefined) {
        throw deny(context, 'unauthenticated', 'a bearer token is required', {
          field: 'authorization',
          reason:
            header === undefined
              ? 'is missing: send Authorization: Bearer <token>'
              : 'must be Bearer <token>',
        });
      }
      principal = this.tokens.verify(presented);
      if (principal === undefined) {
        throw deny(context, 'unauthenticated', 'the bearer token is not valid', {
          field: 'authorization',
          reason: 'is not a valid token',
        });
      }
      if (!roleAllows(principal.role, required)) {
        throw deny(
          context,
          'forbidden',
          `token "${principal.name}" (role ${principal.role}) may not do this: it needs role ${required}`,
          { field: 'authorization', reason: `needs role ${required} or higher` },
        );
      }
      callPrincipals.set(callKey(context), principal);
    }
    if (required !== 'reader') this.limitRate(context, principal);
    return true;
  }

  /** Takes the call's writes (one, or one per task of a batch) from its token's bucket. */
  private limitRate(context: ExecutionContext, principal: Principal | undefined): void {
    if (!this.limiter.enabled) return;
    const costOf = this.reflector.get<((input: unknown) => number) | undefined>(
      WRITE_COST,
      context.getHandler(),
    );
    const input =
      context.getType() === 'http'
        ? context.switchToHttp().getRequest<HttpRequestLike>().body
        : context.switchToRpc().getData<unknown>();
    const cost = costOf?.(input) ?? 1;
    const perMinute = this.settings.rateLimitPerMinute;
    if (cost > this.limiter.burst) {
      throw deny(
        context,
        'rate_limited',
        `this call counts for ${cost} writes, more than the ${perMinute} a minute allowed per token: send smaller batches`,
        { field: 'tasks', reason: `counts for ${cost} writes; at most ${perMinute} a minute` },
      );
    }
    const waitMs = this.limiter.take(principal?.name ?? ANONYMOUS, cost);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw deny(
        context,
        'rate_limited',
        `too many writes: at most ${perMinute} a minute per token (a batch counts each task); retry in ${seconds} s`,
        { field: 'authorization', reason: `exceeded ${perMinute} writes a minute` },
        seconds,
      );
    }
  }
}

/** Reads need `reader`; anything else `admin` unless the handler says otherwise. */
function defaultRole(context: ExecutionContext): ApiRole {
  if (context.getType() === 'http') {
    const method = context.switchToHttp().getRequest<HttpRequestLike>().method ?? 'GET';
    return method === 'GET' || method === 'HEAD' ? 'reader' : 'admin';
  }
  return GRPC_READ.test(context.getHandler().name) ? 'reader' : 'admin';
}

function authorizationOf(context: ExecutionContext): string | undefined {
  if (context.getType() === 'http') {
    const value = context.switchToHttp().getRequest<HttpRequestLike>().headers.authorization;
    return Array.isArray(value) ? value[0] : value;
  }
  const metadata = context.switchToRpc().getContext<Metadata | undefined>();
  const value = metadata?.get?.('authorization')[0];
  return value === undefined ? undefined : value.toString();
}

/** The object a call's principal is kept under: the HTTP request or the gRPC metadata. */
export function callKey(context: ExecutionContext): object {
  return context.getType() === 'http'
    ? context.switchToHttp().getRequest<object>()
    : (context.switchToRpc().getContext<object | undefined>() ?? context.getArgs());
}

/**
 * The refusal for the transport: an HttpException carrying the API's error
 * body (so every route, /metrics included, answers it the same way), or an
 * ApiError that the gRPC exception filters map to a status.
 */
function deny(
  context: ExecutionContext,
  kind: ApiErrorKind,
  message: string,
  error: FieldError,
  retryAfterSeconds?: number,
): Error {
  if (context.getType() !== 'http') return new ApiError(kind, message, [error]);
  const response = context.switchToHttp().getResponse<HttpResponseLike>();
  if (kind === 'unauthenticated') response.header('WWW-Authenticate', 'Bearer');
  if (retryAfterSeconds !== undefined) response.header('Retry-After', String(retryAfterSeconds));
  const status = HTTP_STATUS_OF[kind];
  return new HttpException(
    { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, errors: [error] },
    status,
  );
}
