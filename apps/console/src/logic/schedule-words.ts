/**
 * A cron schedule in plain words ("at 09:00 on Monday to Friday"), for the
 * job list and forms. It covers the shapes people write (steps, ranges,
 * lists, names); anything else is shown as "cron <expression>" rather than
 * guessed. The preview of fire instants, computed by the scheduler, is the
 * exact answer; these words are the quick read.
 */

import { DAY_NAMES, MONTH_NAMES } from '@app/contracts/calendar-names';

const DAY_ALIASES = DAY_NAMES.map((name) => name.slice(0, 3).toUpperCase());
const MONTH_ALIASES = MONTH_NAMES.map((name) => name.slice(0, 3).toUpperCase());

interface Field {
  /** `*` (or `?`): any value. */
  any: boolean;
  /** `*\/n`: every n-th value from the field's start. */
  step?: number;
  /** Explicit values, in the written order, as ranges. */
  parts: Array<{ from: number; to: number; step?: number }>;
}

/** Plain words for a 5- or 6-field cron expression (and a one-off `runAt` elsewhere). */
export function scheduleWords(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return `cron ${expression}`;
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] =
    fields.length === 6 ? fields : ['0', ...fields];
  try {
    const parsed = {
      second: parse(second, 0, 59),
      minute: parse(minute, 0, 59),
      hour: parse(hour, 0, 23),
      dayOfMonth: parse(dayOfMonth, 1, 31),
      month: parse(month, 1, 12, MONTH_ALIASES, 1),
      dayOfWeek: parse(dayOfWeek, 0, 7, DAY_ALIASES, 0),
    };
    return [timeWords(parsed), dayWords(parsed)].filter((part) => part !== '').join(' ');
  } catch {
    return `cron ${expression}`;
  }
}

function parse(
  text: string,
  min: number,
  max: number,
  aliases: readonly string[] = [],
  aliasBase = 0,
): Field {
  if (text === '*' || text === '?') return { any: true, parts: [] };
  const everyStep = /^\*\/(\d+)$/.exec(text);
  if (everyStep) return { any: false, step: positive(everyStep[1]), parts: [] };
  const parts = text.split(',').map((piece) => {
    const match = /^([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(piece);
    if (!match) throw new Error(`unsupported: ${piece}`);
    const from = value(match[1], min, max, aliases, aliasBase);
    const to = match[2] === undefined ? from : value(match[2], min, max, aliases, aliasBase);
    const step = match[3] === undefined ? undefined : positive(match[3]);
    if (to < from) throw new Error('reversed range');
    return { from, to, step };
  });
  return { any: false, parts };
}

function value(
  text: string,
  min: number,
  max: number,
  aliases: readonly string[],
  base: number,
): number {
  const alias = aliases.indexOf(text.toUpperCase());
  const n = alias >= 0 ? alias + base : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`out of range: ${text}`);
  return n;
}

function positive(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error('bad step');
  return n;
}

/** A single fixed value, or undefined. */
function single(field: Field): number | undefined {
  const [only] = field.parts;
  return field.parts.length === 1 && only.from === only.to ? only.from : undefined;
}

const pad = (n: number): string => String(n).padStart(2, '0');

function every(step: number, unit: string): string {
  return step === 1 ? `every ${unit}` : `every ${step} ${unit}s`;
}

function timeWords(f: Record<'second' | 'minute' | 'hour', Field>): string {
  const [s, m, h] = [single(f.second), single(f.minute), single(f.hour)];
  // Seconds that are not "0": the schedule is about seconds.
  if (s !== 0) {
    const secondPart = f.second.any
      ? 'every second'
      : f.second.step !== undefined
        ? every(f.second.step, 'second')
        : `at second ${list(f.second, String)}`;
    if (f.minute.any && f.hour.any) return secondPart;
    return `${secondPart}, ${minuteHourWords(f.minute, f.hour, m, h)}`;
  }
  return minuteHourWords(f.minute, f.hour, m, h);
}

function minuteHourWords(
  minute: Field,
  hour: Field,
  m: number | undefined,
  h: number | undefined,
): string {
  if (m !== undefined && h !== undefined) return `at ${pad(h)}:${pad(m)}`;
  if (m !== undefined && hour.parts.length > 0 && hour.parts.every((p) => p.step === undefined)) {
    // A few fixed hours: list the times.
    const hours = expand(hour);
    if (hours.length <= 6) return `at ${hours.map((x) => `${pad(x)}:${pad(m)}`).join(', ')}`;
  }
  const minutePart = minute.any
    ? 'every minute'
    : minute.step !== undefined
      ? every(minute.step, 'minute')
      : m !== undefined
        ? hour.any
          ? `every hour at minute ${m}`
          : `at minute ${m}`
        : `at minutes ${list(minute, String)}`;
  if (hour.any) return minutePart;
  if (hour.step !== undefined) return `${minutePart} of ${every(hour.step, 'hour')}`;
  return `${minutePart} during hour ${list(hour, pad)}`;
}

function dayWords(f: Record<'dayOfMonth' | 'month' | 'dayOfWeek', Field>): string {
  const parts: string[] = [];
  if (!f.dayOfWeek.any) {
    parts.push(`on ${list(f.dayOfWeek, (d) => DAY_NAMES[d % 7], ' to ')}`);
  }
  if (!f.dayOfMonth.any) {
    parts.push(
      f.dayOfMonth.step !== undefined
        ? `on every ${ordinal(f.dayOfMonth.step)} day of the month`
        : `on day ${list(f.dayOfMonth, String)} of the month`,
    );
  }
  if (!f.month.any) {
    parts.push(
      f.month.step !== undefined
        ? `in every ${ordinal(f.month.step)} month`
        : `in ${list(f.month, (n) => MONTH_NAMES[n - 1], ' to ')}`,
    );
  }
  // Cron runs when either day field matches if both are restricted.
  if (!f.dayOfWeek.any && !f.dayOfMonth.any) {
    return `${parts[0]} or ${parts.slice(1).join(' ')}`;
  }
  return parts.join(' ');
}

function list(field: Field, name: (n: number) => string, through = '–'): string {
  if (field.step !== undefined) return `every ${field.step}`;
  const words = field.parts.map((part) => {
    const range =
      part.from === part.to ? name(part.from) : `${name(part.from)}${through}${name(part.to)}`;
    return part.step === undefined ? range : `every ${part.step} of ${range}`;
  });
  return words.length <= 2
    ? words.join(' and ')
    : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

function expand(field: Field): number[] {
  const values: number[] = [];
  for (const part of field.parts) {
    for (let n = part.from; n <= part.to; n += part.step ?? 1) values.push(n);
  }
  return values;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}
