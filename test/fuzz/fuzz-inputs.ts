/**
 * Generators of bad input for the API fuzz test, all driven by one seeded PRNG
 * so that a failing run is replayed exactly with its seed (FUZZ_SEED).
 */
import type { Rng } from '../support/rng';

export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '\u202Eevil\u202C',
  '\u200F\u05D0\u05D1',
  '🦄💥',
  'e\u0301\u0301\u0301',
  '\uFEFF',
  '\r\n\t',
  '../../etc/passwd',
  '..',
  '.',
  '/',
  '//a//',
  '%00',
  '%zz',
  '%2F..%2F',
  'zookeeper',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'h~',
  'h~garbage',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  "'; DROP TABLE audit_events; --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'a'.repeat(300),
  'x'.repeat(70_000),
];

export const BAD_CRONS: readonly string[] = [
  '* * * * * * *',
  '61 * * * *',
  '* 25 * * *',
  '*/0 * * * *',
  '0 0 30 2 *',
  '0 0 31 4 *',
  '0 0 29 2 1',
  '@yearly',
  '@reboot',
  'L W # ?',
  '1-0 * * * *',
  '5-1/2 * * * *',
  '* * * * MON-SUN-FRI',
  '0 0 * * 8',
  '60 60 * * * *',
  '*/1000000000 * * * *',
  '0 2 * * *',
  '30 2 27 3 *',
  '   ',
  '*',
  '*'.repeat(1000),
  '* * * * *\u0000',
];

export const BAD_TIME_ZONES: readonly string[] = [
  'Mars/Olympus_Mons',
  'UTC+25',
  'Etc/GMT+14',
  'Etc/GMT-15',
  'Europe/Paris\u0000',
  'europe/paris',
  'EST5EDT',
  'America/Sao_Paulo',
  'Australia/Lord_Howe',
  '+05:45',
  'Z',
  'local',
  '../../../etc/localtime',
];

export const BAD_TIMES: readonly string[] = [
  'not a date',
  '2026-13-40T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '2026-01-01',
  '2026-01-01T00:00:00',
  '2026-01-01T25:00:00Z',
  '1e12',
  '0',
];

export const BAD_NUMBERS: readonly number[] = [
  -1,
  0,
  1.5,
  2 ** 31,
  2 ** 53 + 1,
  -(2 ** 63),
  1e308,
  Number.MAX_SAFE_INTEGER,
  -0,
];

/** `{ "__proto__": … }` and friends, as raw JSON text (JSON.stringify would drop __proto__). */
export const POLLUTION_JSON: readonly string[] = [
  '{"__proto__":{"zksPolluted":true}}',
  '{"constructor":{"prototype":{"zksPolluted":true}}}',
  '{"payload":{"__proto__":{"zksPolluted":true}},"type":"noop"}',
  '{"type":"noop","__proto__":{"zksPolluted":true,"type":"shell"}}',
  '{"name":"p","type":"noop","schedule":"* * * * *","selector":{"labels":{"__proto__":"x"}}}',
  '{"name":"p","type":"noop","schedule":"* * * * *","retry":{"__proto__":{"maxAttempts":5}}}',
  '{"tasks":[{"type":"noop","constructor":{"prototype":{"zksPolluted":true}}}]}',
  '[{"__proto__":{"zksPolluted":true}}]',
];

export const GARBAGE_BODIES: readonly string[] = [
  '{',
  '{"a":',
  'nul',
  'null',
  '[]',
  '"str"',
  '1',
  'true',
  '{"type":"noop",}',
  "{'type':'noop'}",
  '{"type":"noop"}{"type":"noop"}',
  '\uFEFF{"type":"noop"}',
  '{"type":"\\ud800"}',
  '{"type":"noop","payload":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}',
  '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
  '{"type":"noop","payload":"' + 'x'.repeat(3_000_000) + '"}',
];

/** Any JSON value, sometimes deep or huge. */
export function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.below(depth > 3 ? 5 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(BAD_NUMBERS);
    case 3:
      return rng.pick(ODD_STRINGS);
    case 4:
      return rng.pick([...BAD_CRONS, ...BAD_TIME_ZONES, ...BAD_TIMES]);
    case 5:
      return Array.from({ length: rng.below(4) }, () => randomValue(rng, depth + 1));
    case 6: {
      const object: Record<string, unknown> = {};
      for (let i = rng.below(4); i > 0; i--)
        object[rng.pick(ODD_STRINGS)] = randomValue(rng, depth + 1);
      return object;
    }
    case 7:
      return deepNest(rng.pick([50, 500, 1_000]));
    default:
      return Array.from({ length: rng.pick([100, 1_001, 10_000]) }, (_, i) => i);
  }
}

function deepNest(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

/** One of the fields of a request, a bad value for it. */
export function badFieldValue(rng: Rng, field: string): unknown {
  if (rng.chance(0.4)) return randomValue(rng);
  if (/schedule/i.test(field)) return rng.pick(BAD_CRONS);
  if (/timezone/i.test(field)) return rng.pick(BAD_TIME_ZONES);
  if (/(At|since|until)$/i.test(field)) return rng.pick(BAD_TIMES);
  if (/(Ms|limit|parallelism|maxAttempts)$/i.test(field)) return rng.pick(BAD_NUMBERS);
  return rng.pick(ODD_STRINGS);
}

/** encodeURIComponent, except that a lone surrogate becomes its (invalid) UTF-8 bytes. */
export function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '')) + '%ED%A0%80';
  }
}

/** A path segment: an odd id, percent-encoded or raw (raw ones may be malformed URLs). */
export function badId(rng: Rng): string {
  const id = rng.pick([...ODD_STRINGS.filter((s) => s !== ''), 'job@123', 'x@-1', 'x@9e99']);
  return rng.chance(0.8) ? encode(id) : encode(id).replace(/%2F|%3F|%23/g, '%');
}

/** A query string with bad values, repeated keys and bracket (pollution) syntax. */
export function badQuery(rng: Rng, fields: readonly string[]): string {
  const parts: string[] = [];
  for (let i = 1 + rng.below(4); i > 0; i--) {
    const field = rng.pick([
      ...fields,
      '__proto__[zksPolluted]',
      'constructor[prototype][zksPolluted]',
      'limit[]',
      'x',
    ]);
    const value = badFieldValue(rng, field);
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
    const key = encode(field).replace(/%5B/g, '[').replace(/%5D/g, ']');
    parts.push(`${key}=${encode(text.slice(0, 5_000))}`);
  }
  return parts.join('&');
}
