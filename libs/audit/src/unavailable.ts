import { AuditUnavailableError } from './audit-errors';

/** Socket-level failures: the server is not there (or not reachable). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** SQLSTATEs that mean "not now" rather than "wrong": shutdown, start-up, too many connections. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres and TypeORM say these in words only. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|not queryable|Driver not Connected|Cannot use a pool after calling end/i;

function field(error: unknown, name: 'code' | 'message'): string | undefined {
  const value = (error as Record<string, unknown> | null)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** True when `error` says PostgreSQL could not be reached or is shutting down. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof AuditUnavailableError) return true;
  // TypeORM's QueryFailedError keeps the driver's error beside its own copy of the fields.
  const candidates = [error, (error as { driverError?: unknown } | null)?.driverError];
  return candidates.some((candidate) => {
    const code = field(candidate, 'code');
    if (code !== undefined && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code))) {
      return true;
    }
    // Class 08: connection exception.
    if (code !== undefined && /^08[0-9A-Z]{3}$/.test(code)) return true;
    return UNAVAILABLE_MESSAGES.test(field(candidate, 'message') ?? '');
  });
}

/** `error` as an AuditUnavailableError when it is one in substance; otherwise unchanged. */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof AuditUnavailableError || !isUnavailable(error)) return error;
  const reason = field(error, 'message') ?? field(error, 'code') ?? String(error);
  return new AuditUnavailableError(`PostgreSQL is unavailable: ${reason}`, { cause: error });
}
