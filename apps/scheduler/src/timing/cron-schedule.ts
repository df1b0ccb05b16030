/**
 * Cron schedules: parse and validate an expression with its IANA time zone,
 * then compute fire instants (epoch ms).
 *
 * Syntax: 5 fields `minute hour day-of-month month day-of-week` (fires on whole
 * minutes) or 6 with a leading `second`; `* ? , - /`, names (`JAN`, `MON-FRI`),
 * `L` (last day of month; `5L` = last Friday), `#` (`1#2` = second Monday),
 * and the macros `@yearly @annually @monthly @weekly @daily @midnight
 * @hourly`. A day-of-month and a day-of-week that are both restricted match
 * either one (Vixie cron). Parsing and validation are cron-parser's; `H` is
 * refused because its random value differs between scheduler replicas, so two
 * leaders would not fire at the same instants and "a cron fire happens once"
 * (fire ids are `<jobId>@<fireTime>`) would break. `@secondly` is refused too:
 * a once-a-second job should be the explicit `* * * * * *`.
 *
 * Daylight-saving time, as in Vixie cron (the schedule is read on the wall
 * clock of its zone):
 * - A schedule whose hour field is `*`, `?`, a step (`/n`) or all 24 hours
 *   follows real time: it fires at every instant whose wall-clock reading
 *   matches. Wall times that a spring-forward skips do not fire; wall times
 *   that a fall-back repeats fire in both passes (`0 * * * *` fires at 01:00
 *   EDT and again at 01:00 EST). Fires stay evenly spaced in real time.
 * - Any other schedule names fixed wall-clock hours. Wall times inside a
 *   spring-forward gap fire once, at the instant the gap ends (`30 2 * * *`
 *   in New York fires at 03:00 EDT on 2026-03-08); several such times (or one
 *   that coincides with the first real time after the gap) fire once. Wall
 *   times a fall-back repeats fire only at their first occurrence.
 * This holds for any shift size (Lord Howe's 30 minutes, Troll's 2 hours), for
 * shifts at midnight (Santiago) and for skipped days (Samoa, 2011). Unlike
 * Vixie cron, which also treats a `*` in the minute field as "wildcard", only
 * the hour field decides: `0-59/15 2 * * *` (a step in the minute field) is a
 * fixed 02:xx schedule and fires once on a spring-forward day.
 *
 * Instants come from our own search over the zone's wall clock (`time-zone.ts`
 * caches the offset changes), not from cron-parser's iterator: that one fires
 * a gap time at the gap-shifted wall time (03:30, not 03:00), skips or loops
 * on 30-minute shifts, and has open spring-forward bugs (its issues #378,
 * #404). Every loop here is bounded by the search window, results are strictly
 * increasing, and `next` looks at most {@link NEXT_HORIZON_MS} ahead.
 */
import { daysInMonth, civilFromDays } from './civil-calendar';
import {
  FIELD_FORMS,
  FIELD_NAMES,
  InvalidScheduleError,
  MACROS,
  fieldError,
  parseFields,
  truncate,
  type Matcher,
} from './cron-fields';
import { ZoneOffsets, isValidTimeZone, type OffsetTransition } from './time-zone';

export { InvalidScheduleError } from './cron-fields';

export { isValidTimeZone } from './time-zone';

const SECOND_MS = 1_000;
const DAY_MS = 86_400_000;
/** How far `next` looks: five years, leap days included. */
export const NEXT_HORIZON_MS = 1_827 * DAY_MS;
/** Instants accepted by `next`/`between` (1900-01-01 to 9999-01-01): what Intl and Date handle. */
const MIN_INSTANT = Date.UTC(1900, 0, 1);
const MAX_INSTANT = Date.UTC(9999, 0, 1);
/** Look-back for a fall-back that is still repeating wall times at the start of a search. */
const REPEAT_LOOKBACK_MS = 2 * DAY_MS;
/** Largest `limit` for `between`. */
const MAX_BETWEEN_LIMIT = 1_000_000;
/**
 * Parsed schedules kept for reuse (they are immutable), least recently used
 * out first: every replica looks a job's schedule up when the job changes, so
 * the distinct schedules of a large cluster should fit (about 1 KB each).
 */
const PARSE_CACHE_SIZE = 8_192;

const cache = new Map<string, CronSchedule>();

export class CronSchedule {
  /** True when the hour field follows real time across DST changes (see the file's doc). */
  private readonly realTimeHours: boolean;
  private readonly zone: ZoneOffsets;

  private constructor(
    readonly expression: string,
    readonly timezone: string,
    /** 6-field form (leading seconds); 5-field forms and macros fire on whole minutes. */
    readonly hasSeconds: boolean,
    private readonly matcher: Matcher,
    realTimeHours: boolean,
  ) {
    this.realTimeHours = realTimeHours;
    this.zone = ZoneOffsets.of(timezone);
  }

  /**
   * Parses `expression` (5 or 6 fields, or a macro) for `timezone` (IANA,
   * default UTC). Throws {@link InvalidScheduleError} naming the field and the
   * reason. Results are cached, so calling it per use is cheap.
   */
  static parse(expression: string, timezone: string = 'UTC'): CronSchedule {
    if (typeof timezone !== 'string' || timezone.length === 0) {
      throw new InvalidScheduleError('timezone', 'must be a non-empty IANA time zone name');
    }
    if (!isValidTimeZone(timezone)) {
      throw new InvalidScheduleError(
        'timezone',
        `'${truncate(timezone)}' is not a known IANA time zone (for example 'UTC', 'Europe/Berlin')`,
      );
    }
    if (typeof expression !== 'string') {
      throw new InvalidScheduleError('schedule', 'must be a string');
    }
    const key = `${timezone}\n${expression}`;
    const cached = cache.get(key);
    if (cached !== undefined) {
      cache.delete(key);
      cache.set(key, cached);
      return cached;
    }
    const schedule = CronSchedule.compile(expression, timezone);
    if (cache.size >= PARSE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, schedule);
    return schedule;
  }

  /** The first fire instant strictly after `after` (epoch ms), or null if none within ~5 years. */
  next(after: number): number | null {
    checkInstant('after', after);
    return this.nextWithin(after, Math.min(after + NEXT_HORIZON_MS, MAX_INSTANT));
  }

  /** Fire instants in (fromExclusive, toInclusive], ascending, at most `limit` (the earliest ones), plus whether more exist. */
  between(
    fromExclusive: number,
    toInclusive: number,
    limit: number,
  ): { instants: number[]; truncated: boolean } {
    checkInstant('fromExclusive', fromExclusive);
    checkInstant('toInclusive', toInclusive);
    if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_BETWEEN_LIMIT) {
      throw new RangeError(`limit must be an integer from 0 to ${MAX_BETWEEN_LIMIT}`);
    }
    const instants: number[] = [];
    let cursor = fromExclusive;
    for (;;) {
      const instant = this.nextWithin(cursor, toInclusive);
      if (instant === null) return { instants, truncated: false };
      if (instants.length === limit) return { instants, truncated: true };
      instants.push(instant);
      cursor = instant;
    }
  }

  toString(): string {
    return `${this.expression} (${this.timezone})`;
  }

  /**
   * The first fire instant in (after, limit]. The timeline is walked one
   * constant-offset segment at a time: inside a segment, instant = wall time -
   * offset, so the first matching wall time gives the answer unless an offset
   * change comes first; at a change the DST rules of the file's doc apply.
   */
  private nextWithin(after: number, limit: number): number | null {
    const start = Math.floor(after / SECOND_MS) * SECOND_MS + SECOND_MS;
    if (start > limit) return null;
    if (this.zone.isUtc) return this.firstWallMatch(start, limit);

    const zone = this.zone;
    const search = this.memoizedSearch();
    let segmentStart = start;
    let offset = zone.offsetAt(start);
    // Fixed-hour schedules: wall times below this already fired before a fall-back.
    let repeatedBelow = -Infinity;
    const entered = zone.lastTransitionIn(start - REPEAT_LOOKBACK_MS, start);
    if (entered !== null && !this.realTimeHours) {
      if (entered.offsetAfter < entered.offsetBefore) {
        repeatedBelow = entered.at + entered.offsetBefore;
      } else if (entered.at === start && this.gapHasMatch(entered)) {
        return start;
      }
    }
    // Each pass moves segmentStart to a later offset change inside (after, limit];
    // the bound only guards against broken zone data.
    for (let pass = 0; pass < 100_000; pass++) {
      const wall = search(Math.max(segmentStart + offset, repeatedBelow), limit + offset);
      const candidate = wall === null ? limit : wall - offset;
      const transition = zone.firstTransitionIn(segmentStart, candidate);
      if (transition === null) return wall === null ? null : checked(candidate, after);
      segmentStart = transition.at;
      offset = transition.offsetAfter;
      repeatedBelow = -Infinity;
      if (!this.realTimeHours) {
        if (transition.offsetAfter > transition.offsetBefore) {
          if (this.gapHasMatch(transition)) return checked(transition.at, after);
        } else {
          repeatedBelow = transition.at + transition.offsetBefore;
        }
      }
    }
    throw new Error(`cron search for '${this.expression}' in ${this.timezone} did not settle`);
  }

  /** Whether a wall time the spring-forward `gap` skipped matches the schedule. */
  private gapHasMatch(gap: OffsetTransition): boolean {
    return (
      this.firstWallMatch(gap.at + gap.offsetBefore, gap.at + gap.offsetAfter - SECOND_MS) !== null
    );
  }

  /**
   * `firstWallMatch` remembering its last answer: successive segments of one
   * search mostly ask about overlapping windows (a yearly schedule crosses
   * many offset changes before its next fire).
   */
  private memoizedSearch(): (from: number, to: number) => number | null {
    let memoFrom = Infinity;
    let memoTo = -Infinity;
    let memo: number | null = null;
    return (from, to) => {
      if (from >= memoFrom) {
        if (memo !== null) {
          if (memo >= from) return memo <= to ? memo : null;
        } else if (to <= memoTo) {
          return null;
        } else if (from <= memoTo) {
          memo = this.firstWallMatch(memoTo + 1, to);
          memoTo = to;
          return memo;
        }
      }
      memo = this.firstWallMatch(from, to);
      memoFrom = from;
      memoTo = to;
      return memo;
    };
  }

  /**
   * The first whole second W with from <= W <= to whose wall-clock reading
   * matches, where W is a wall time written as if it were UTC (no zone here).
   * Walks days (months at a time when the month does not match): bounded by
   * the window length.
   */
  private firstWallMatch(from: number, to: number): number | null {
    const m = this.matcher;
    const first = Math.ceil(from / SECOND_MS) * SECOND_MS;
    let day = Math.floor(first / DAY_MS);
    let secondOfDay = (first - day * DAY_MS) / SECOND_MS;
    const lastDay = Math.floor(to / DAY_MS);
    while (day <= lastDay) {
      const { year, month, dayOfMonth } = civilFromDays(day);
      if (m.months[month] === 0) {
        day += daysInMonth(year, month) - dayOfMonth + 1;
        secondOfDay = 0;
        continue;
      }
      if (this.dayMatches(day, year, month, dayOfMonth)) {
        const time = firstTimeOfDay(m, secondOfDay);
        if (time >= 0) {
          const wall = day * DAY_MS + time * SECOND_MS;
          return wall <= to ? wall : null;
        }
      }
      day += 1;
      secondOfDay = 0;
    }
    return null;
  }

  /** cron-parser's day rules (its `#matchDayOfMonth`), on a proleptic Gregorian day. */
  private dayMatches(day: number, year: number, month: number, dayOfMonth: number): boolean {
    const m = this.matcher;
    const lastDay = daysInMonth(year, month);
    const domMatch = m.days[dayOfMonth] === 1 || (m.lastDayOfMonth && dayOfMonth === lastDay);
    if (!m.dayOfWeekRestricted) return domMatch;
    const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    const dowMatch =
      (m.weekdays[weekday] === 1 &&
        (m.nthWeekday === 0 || Math.ceil(dayOfMonth / 7) === m.nthWeekday)) ||
      (m.lastWeekdays[weekday] === 1 && dayOfMonth > lastDay - 7);
    return m.dayOfMonthRestricted ? domMatch || dowMatch : dowMatch;
  }

  private static compile(expression: string, timezone: string): CronSchedule {
    const trimmed = expression.trim();
    if (trimmed.length === 0) {
      throw new InvalidScheduleError('schedule', `is empty; ${FIELD_FORMS}`);
    }
    let fields: string[];
    let hasSeconds: boolean;
    if (trimmed.startsWith('@')) {
      const macro = MACROS[trimmed.toLowerCase()];
      if (macro === undefined) {
        throw new InvalidScheduleError(
          'schedule',
          `unknown macro '${truncate(trimmed)}'; supported: ${Object.keys(MACROS).join(', ')}`,
        );
      }
      fields = ['0', ...macro.split(' ')];
      hasSeconds = false;
    } else {
      const words = trimmed.split(/\s+/);
      if (words.length !== 5 && words.length !== 6) {
        throw new InvalidScheduleError('schedule', `${FIELD_FORMS}, got ${words.length}`);
      }
      hasSeconds = words.length === 6;
      fields = hasSeconds ? words : ['0', ...words];
    }
    fields.forEach((raw, index) => {
      // A lone H (not inside a name such as THU) is cron-parser's random value.
      if (/(^|[^A-Za-z])H($|[^A-Za-z])/.test(raw)) {
        throw fieldError(
          FIELD_NAMES[index],
          `'H' (a random value) is not supported: every scheduler replica must compute the same fire times`,
        );
      }
    });
    const { matcher, hourCount } = parseFields(fields);
    const realTimeHours = /[*?/]/.test(fields[2]) || hourCount === 24;
    return new CronSchedule(expression, timezone, hasSeconds, matcher, realTimeHours);
  }
}

/** The first allowed second of the day >= `secondOfDay`, or -1. */
function firstTimeOfDay(m: Matcher, secondOfDay: number): number {
  const hour = Math.floor(secondOfDay / 3_600);
  const minute = Math.floor(secondOfDay / 60) % 60;
  const second = secondOfDay % 60;
  const h = m.nextHour[hour];
  if (h < 0) return -1;
  const firstMinute = m.nextMinute[0];
  const firstSecond = m.nextSecond[0];
  if (h > hour) return h * 3_600 + firstMinute * 60 + firstSecond;
  const mi = m.nextMinute[minute];
  if (mi >= 0) {
    if (mi > minute) return h * 3_600 + mi * 60 + firstSecond;
    const s = m.nextSecond[second];
    if (s >= 0) return h * 3_600 + mi * 60 + s;
    const laterMinute = m.nextMinute[minute + 1];
    if (laterMinute >= 0) return h * 3_600 + laterMinute * 60 + firstSecond;
  }
  const laterHour = m.nextHour[hour + 1];
  return laterHour < 0 ? -1 : laterHour * 3_600 + firstMinute * 60 + firstSecond;
}

function checkInstant(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= MIN_INSTANT && value <= MAX_INSTANT)) {
    throw new RangeError(`${name} must be epoch milliseconds between years 1900 and 9999`);
  }
}

/** The search guarantees this; checking it keeps a bug from ever firing twice or backwards. */
function checked(instant: number, after: number): number {
  if (!(instant > after)) {
    throw new Error(`cron search returned ${instant}, not after ${after}`);
  }
  return instant;
}
