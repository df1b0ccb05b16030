/**
 * Parsers of option values (commander `argParser`s): each turns text into what
 * the API takes, or throws InvalidArgumentError, which commander reports as a
 * usage error naming the option. Only the syntax is checked here; what the
 * value means (a valid cron, a known handler type) is the server's to judge.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/** JSON text, or `@path` for a file holding it. */
export function parseJsonValue(value: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (error: unknown) {
      throw new InvalidArgumentError(`cannot read ${value.slice(1)}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error: unknown) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message})`);
  }
}

export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number');
    const number = Number(value);
    if (number < min || number > max) {
      throw new InvalidArgumentError(`must be from ${min} to ${max}`);
    }
    return number;
  };
}

/** `key=value`, repeatable: collects into one record. */
export function collectLabel(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('must be key=value');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `10m`, `2h`, `1d` in milliseconds; undefined when not a duration. */
export function durationMs(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2]] : undefined;
}

/** A time: ISO 8601 passed on as written, or a duration counted back from now (`--since 10m`). */
export function parseTimeAgo(value: string): string {
  const ms = durationMs(value);
  if (ms !== undefined) return new Date(Date.now() - ms).toISOString();
  return isoTime(value);
}

/** A time: ISO 8601 passed on as written, or `+duration` from now (`--run-at +30s`). */
export function parseTimeAhead(value: string): string {
  const ms = value.startsWith('+') ? durationMs(value.slice(1)) : undefined;
  if (ms !== undefined) return new Date(Date.now() + ms).toISOString();
  return isoTime(value);
}

function isoTime(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new InvalidArgumentError('must be an ISO 8601 time (2026-01-31T12:00:00Z) or a duration');
}

/** A wait in milliseconds, written in seconds (`--timeout 30`) or with a unit (`30s`, `2m`). */
export function parseWaitMs(value: string): number {
  const ms = durationMs(value) ?? (/^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) * 1000 : NaN);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new InvalidArgumentError('must be a positive number of seconds (or 500ms, 30s, 2m)');
  }
  return ms;
}

export function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // Reported below.
  }
  throw new InvalidArgumentError('must be an http:// or https:// URL');
}
