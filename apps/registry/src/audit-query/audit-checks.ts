import { parseIsoDateTime, type Check } from '@app/common/api';

/** Ids as the cluster makes them (task ids hold `@`, member ids `.`); nothing else reaches SQL. */
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
/** A seq: a PostgreSQL bigint as decimal digits. */
const SEQ = /^\d{1,19}$/;
const SEQ_MAX = 9_223_372_036_854_775_807n;

export const checkIdentifier: Check = (value) =>
  typeof value === 'string' && IDENTIFIER.test(value)
    ? undefined
    : 'must be an id (letters, digits and . _ : @ -, at most 200 characters)';

export const checkIsoTime: Check = (value) =>
  typeof value === 'string' && parseIsoDateTime(value) !== undefined
    ? undefined
    : 'must be an ISO 8601 date-time with an offset, e.g. 2030-01-01T09:00:00Z';

/** `until` is a time, and after `since` when both are given. */
export const checkUntil: Check = (value, target) => {
  const problem = checkIsoTime(value, target);
  if (problem) return problem;
  const since = typeof target.since === 'string' ? parseIsoDateTime(target.since) : undefined;
  if (since !== undefined && parseIsoDateTime(value as string)! <= since)
    return 'must be after since';
  return undefined;
};

export function isSeq(value: unknown): value is string {
  return typeof value === 'string' && SEQ.test(value) && BigInt(value) <= SEQ_MAX;
}

export const checkCursor: Check = (value) =>
  isSeq(value) ? undefined : 'must be a nextCursor from a previous page (an event seq)';
