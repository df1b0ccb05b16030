/**
 * RFC 3339 date-times with an explicit offset (`2030-01-01T09:00:00Z`,
 * `2030-01-01T10:00:00.250+01:00`). Stricter than `Date.parse`, which takes
 * offset-less local times and rolls 30 February over into March.
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/i;

/** Epoch ms of `value`, or undefined when it is not such a date-time. */
export function parseIsoDateTime(value: string): number | undefined {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s = '0', fraction = '0', zulu, sign, oh, om] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (!zulu) {
    const [offsetHours, offsetMins] = [Number(oh), Number(om)];
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = Math.floor(Number(`0.${fraction}`) * 1000);
  return utcEpoch(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

/** `Date.UTC`, without its reading of years 0–99 as 1900–1999. */
function utcEpoch(year: number, monthIndex: number, day: number, ...time: number[]): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(time[0] ?? 0, time[1] ?? 0, time[2] ?? 0, time[3] ?? 0);
  return date.getTime();
}

function daysIn(year: number, month: number): number {
  return new Date(utcEpoch(year, month, 0)).getUTCDate();
}

export function toIso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function toIsoOrNull(epochMs: number | null | undefined): string | null {
  return epochMs === null || epochMs === undefined ? null : toIso(epochMs);
}
