import { WEBHOOK_EVENT_TYPES } from '@app/audit';
import type { OutboundPolicy } from '@app/common';
import { ApiError, type Check } from '@app/common/api';
import { Injectable, type PipeTransform } from '@nestjs/common';

export const WEBHOOK_LIMITS = {
  urlLength: 2_048,
  events: WEBHOOK_EVENT_TYPES.length + 1,
  secretMin: 16,
  secretMax: 256,
} as const;

const SELECTORS: readonly string[] = [...WEBHOOK_EVENT_TYPES, '*'];

/** A webhook URL's form: absolute http(s), at most WEBHOOK_LIMITS.urlLength, no credentials, no fragment. */
export const checkWebhookUrl: Check = (value) => {
  if (typeof value !== 'string' || value.length === 0) return 'must be an http(s) URL';
  if (value.length > WEBHOOK_LIMITS.urlLength) {
    return `must be at most ${WEBHOOK_LIMITS.urlLength} characters`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hash !== '') return 'must not have a #fragment';
  return undefined;
};

/**
 * Why the outbound policy refuses a (well-formed) webhook URL before any
 * lookup: not in the allowlist, an IP literal in a special range. Names are
 * resolved and checked again at each delivery.
 */
export function urlRefusal(policy: OutboundPolicy, url: string): string | undefined {
  return policy.refusalOfHost(new URL(url).hostname);
}

export const checkWebhookEvents: Check = (value) => {
  const reason = `must be a list of 1 to ${WEBHOOK_LIMITS.events} distinct event types among ${SELECTORS.join(', ')}`;
  if (!Array.isArray(value) || value.length === 0 || value.length > WEBHOOK_LIMITS.events) {
    return reason;
  }
  if (!value.every((item) => typeof item === 'string' && SELECTORS.includes(item))) return reason;
  return new Set(value).size === value.length ? undefined : reason;
};

export const checkWebhookSecret: Check = (value) =>
  typeof value === 'string' &&
  value.length >= WEBHOOK_LIMITS.secretMin &&
  value.length <= WEBHOOK_LIMITS.secretMax &&
  /^[\x21-\x7e]+$/.test(value)
    ? undefined
    : `must be ${WEBHOOK_LIMITS.secretMin} to ${WEBHOOK_LIMITS.secretMax} printable ASCII characters without spaces`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const checkWebhookId: Check = (value) =>
  typeof value === 'string' && UUID.test(value) ? undefined : 'must be a webhook id (a UUID)';

/** A 400 naming `id` unless it is a webhook id: no malformed id reaches PostgreSQL. */
@Injectable()
export class WebhookIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    const problem = checkWebhookId(value, {});
    if (problem) throw ApiError.field('id', problem);
    return value as string;
  }
}
