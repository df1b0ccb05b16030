/**
 * Cron fields: parsing an expression's fields (through cron-parser) into the
 * lookup tables the wall-clock search in cron-schedule.ts walks, and the
 * API-facing errors that name the field and the reason.
 */
import { CronExpressionParser } from 'cron-parser';
import { MONTH_NAMES } from '@app/contracts';

export const FIELD_NAMES = [
  'second',
  'minute',
  'hour',
  'day-of-month',
  'month',
  'day-of-week',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export const FIELD_FORMS =
  'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)';

export const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A schedule or time zone that cannot be used; `reason` is meant for the API user. */
export class InvalidScheduleError extends Error {
  constructor(
    readonly field: 'schedule' | 'timezone',
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidScheduleError';
  }
}

/** The expanded fields, as lookup tables for the wall-clock search. */
export interface Matcher {
  /** `nextX[v]`: the first allowed value >= v, or -1 (index max + 1 is always -1). */
  readonly nextSecond: Int8Array;
  readonly nextMinute: Int8Array;
  readonly nextHour: Int8Array;
  readonly months: Uint8Array;
  readonly days: Uint8Array;
  readonly lastDayOfMonth: boolean;
  readonly dayOfMonthRestricted: boolean;
  readonly weekdays: Uint8Array;
  /** `#n`: only the n-th such weekday of the month; 0 = any. */
  readonly nthWeekday: number;
  /** `nL`: the last such weekday of the month. */
  readonly lastWeekdays: Uint8Array;
  readonly dayOfWeekRestricted: boolean;
}

export interface ParsedFields {
  matcher: Matcher;
  /** How many hours of the day the hour field allows. */
  hourCount: number;
}

/** Runs cron-parser on the 6-field form and turns its fields into lookup tables. */
export function parseFields(fields: string[]): ParsedFields {
  let parsed: ReturnType<typeof CronExpressionParser.parse>;
  try {
    parsed = CronExpressionParser.parse(fields.join(' '), { tz: 'UTC', currentDate: 0 });
  } catch (error: unknown) {
    throw explain(fields, error);
  }
  const f = parsed.fields;
  const numbers = (values: readonly (number | string)[]): number[] =>
    values.filter((value): value is number => typeof value === 'number');
  const weekdays = new Uint8Array(7);
  const lastWeekdays = new Uint8Array(7);
  for (const value of f.dayOfWeek.values as readonly (number | string)[]) {
    if (typeof value === 'number') weekdays[value % 7] = 1;
    else if (/^[0-7]L$/.test(value)) lastWeekdays[Number(value[0]) % 7] = 1;
  }
  const days = new Uint8Array(32);
  for (const value of numbers(f.dayOfMonth.values)) days[value] = 1;
  const months = new Uint8Array(13);
  for (const value of numbers(f.month.values)) months[value] = 1;
  return {
    hourCount: numbers(f.hour.values).length,
    matcher: {
      nextSecond: nextTable(numbers(f.second.values), 60),
      nextMinute: nextTable(numbers(f.minute.values), 60),
      nextHour: nextTable(numbers(f.hour.values), 24),
      months,
      days,
      lastDayOfMonth: f.dayOfMonth.hasLastChar,
      dayOfMonthRestricted: !f.dayOfMonth.isWildcard,
      weekdays,
      nthWeekday: f.dayOfWeek.nthDay,
      lastWeekdays,
      dayOfWeekRestricted: !f.dayOfWeek.isWildcard,
    },
  };
}

/** `table[v]` = first allowed value >= v, or -1; sized size + 1 so `v + 1` never overflows. */
function nextTable(values: number[], size: number): Int8Array {
  const table = new Int8Array(size + 1).fill(-1);
  const allowed = new Uint8Array(size);
  for (const value of values) allowed[value] = 1;
  for (let v = size - 1, next = -1; v >= 0; v--) {
    if (allowed[v] === 1) next = v;
    table[v] = next;
  }
  return table;
}

export function fieldError(field: FieldName, reason: string): InvalidScheduleError {
  return new InvalidScheduleError('schedule', `${field} field: ${reason}`);
}

export function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Turns a cron-parser error into a reason that names the field: each field is
 * tried alone (the others `*`) to find the culprit, then the library's message
 * is reworded.
 */
function explain(fields: string[], error: unknown): InvalidScheduleError {
  const message = error instanceof Error ? error.message : String(error);
  for (let index = 0; index < fields.length; index++) {
    const alone = fields.map((raw, i) => (i === index ? raw : '*'));
    try {
      CronExpressionParser.parse(alone.join(' '), { tz: 'UTC', currentDate: 0 });
    } catch (fieldFailure: unknown) {
      const text = fieldFailure instanceof Error ? fieldFailure.message : String(fieldFailure);
      return fieldError(
        FIELD_NAMES[index],
        reword(text, truncate(fields[index]), FIELD_NAMES[index]),
      );
    }
  }
  if (message === 'Invalid explicit day of month definition') {
    const months = fields[4];
    const where = /^\d+$/.test(months)
      ? (MONTH_NAMES[Number(months) - 1] ?? months)
      : `months '${truncate(months)}'`;
    return fieldError(
      'day-of-month',
      `'${truncate(fields[3])}' never occurs in ${where}, so the schedule would never fire`,
    );
  }
  return new InvalidScheduleError('schedule', `invalid expression (${message})`);
}

/** cron-parser's messages (5.x), in words for an API user; unknown ones pass through. */
function reword(message: string, raw: string, field: FieldName): string {
  let match: RegExpExecArray | null;
  if ((match = /^Constraint error, got value (\S+) expected range (\d+-\d+)$/.exec(message))) {
    return `${match[1]} is out of range ${match[2]}`;
  }
  if (
    (match = /^Constraint error, got range (\d+)-(\d+) expected range (\d+-\d+)$/.exec(message))
  ) {
    return `range ${match[1]}-${match[2]} is out of range ${match[3]}`;
  }
  if (/^Constraint error, got range /.test(message) || /^Invalid range: [^,]*$/.test(message)) {
    return `'${raw}' is not a valid value or range`;
  }
  if ((match = /^Invalid range: (\d+)-(\d+), min/.exec(message))) {
    return `range ${match[1]}-${match[2]} runs backwards (${match[1]} > ${match[2]})`;
  }
  if (/^Constraint error, cannot repeat at every/.test(message)) {
    return `the step in '${raw}' must be a positive integer`;
  }
  if (/^Invalid characters/.test(message)) {
    return `'${raw}' contains characters that are not allowed here`;
  }
  if (/^Invalid wildcard/.test(message)) {
    return `in '${raw}', '*' must stand alone or before a step (as in */5)`;
  }
  if (/^Invalid repeat/.test(message)) return `'${raw}' has more than one '/'`;
  if (/^Invalid list value format/.test(message)) return `'${raw}' has an empty list item`;
  if ((match = /^Validation error, cannot resolve alias "(.*)"$/.exec(message))) {
    const names = field === 'month' ? 'a month name (JAN-DEC)' : 'a weekday name (SUN-SAT)';
    return `'${match[1]}' is not ${names}`;
  }
  if ((match = /duplicate values found: (\S+)$/.exec(message))) {
    return `${match[1]} is listed more than once in '${raw}'`;
  }
  if (/occurrence number \(#\)/.test(message)) {
    return `in '${raw}', '#' must be followed by 1-5 (as in 1#2, the second Monday)`;
  }
  if (/special characters are incompatible/.test(message)) {
    return `'#' cannot be combined with ',', '-', '/' or 'L' (in '${raw}')`;
  }
  if (/standalone L/.test(message)) {
    return `'L' must follow a weekday number (as in 5L, the last Friday)`;
  }
  if ((match = /Validation error, got value (\S+) expected range (\d+-\d+)/.exec(message))) {
    return `${match[1]} is not valid (expected ${match[2]} or L)`;
  }
  return `'${raw}' is invalid (${message})`;
}
