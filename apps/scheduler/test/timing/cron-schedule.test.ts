import { CronExpressionParser } from 'cron-parser';
import {
  CronSchedule,
  InvalidScheduleError,
  NEXT_HORIZON_MS,
  isValidTimeZone,
} from '../../src/timing/cron-schedule';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Epoch ms of an ISO string with an explicit offset: expectations are written independently of the code. */
const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad ISO string in test: ${iso}`);
  return ms;
};
/** Readable UTC strings, so a failing comparison shows times, not numbers. */
const utc = (instants: readonly (number | null)[]): (string | null)[] =>
  instants.map((t) => (t === null ? null : new Date(t).toISOString()));
const utcOf = (isos: readonly string[]): string[] =>
  isos.map((iso) => new Date(at(iso)).toISOString());

/** `count` successive `next` results from `fromIso`. */
function chain(schedule: CronSchedule, fromIso: string, count: number): (string | null)[] {
  const out: (number | null)[] = [];
  let cursor = at(fromIso);
  for (let i = 0; i < count; i++) {
    const instant = schedule.next(cursor);
    out.push(instant);
    if (instant === null) break;
    cursor = instant;
  }
  return utc(out);
}

function rejection(expression: string, timezone?: string): InvalidScheduleError {
  try {
    CronSchedule.parse(expression, timezone);
  } catch (error: unknown) {
    if (error instanceof InvalidScheduleError) return error;
    throw error;
  }
  throw new Error(`'${expression}' was accepted`);
}

/** Small seeded PRNG (mulberry32): fuzz failures replay from the seed in the test name. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('CronSchedule.parse', () => {
  it('accepts 5 fields (minute precision) and 6 fields (leading seconds)', () => {
    const five = CronSchedule.parse('*/15 * * * *', 'Europe/Berlin');
    expect(five).toMatchObject({
      expression: '*/15 * * * *',
      timezone: 'Europe/Berlin',
      hasSeconds: false,
    });
    const six = CronSchedule.parse('*/20 * * * * *');
    expect(six).toMatchObject({ timezone: 'UTC', hasSeconds: true });
    expect(chain(six, '2026-01-01T00:00:00Z', 3)).toEqual(
      utcOf(['2026-01-01T00:00:20Z', '2026-01-01T00:00:40Z', '2026-01-01T00:01:00Z']),
    );
    expect(chain(five, '2026-01-01T00:00:00Z', 2)).toEqual(
      utcOf(['2026-01-01T01:15:00+01:00', '2026-01-01T01:30:00+01:00']),
    );
  });

  it('accepts names, ?, L, #, ranges, steps, lists and surrounding whitespace', () => {
    for (const expression of [
      '0 9 * * MON-FRI',
      '0 0 ? JAN,jul ?',
      '0 0 L * *',
      '0 0 * * 5L',
      '0 12 * * 1#2',
      '5-55/10 1,13 1-15 */2 0-6',
      '  0 0 * * *\t',
      '0 0 * * 7',
    ]) {
      expect(() => CronSchedule.parse(expression)).not.toThrow();
    }
  });

  it('accepts the standard macros (any case) and they fire on whole minutes', () => {
    const from = '2026-05-13T10:20:30Z';
    const cases: [string, string][] = [
      ['@yearly', '2027-01-01T00:00:00Z'],
      ['@annually', '2027-01-01T00:00:00Z'],
      ['@monthly', '2026-06-01T00:00:00Z'],
      ['@weekly', '2026-05-17T00:00:00Z'],
      ['@daily', '2026-05-14T00:00:00Z'],
      ['@midnight', '2026-05-14T00:00:00Z'],
      ['@hourly', '2026-05-13T11:00:00Z'],
      ['@DAILY', '2026-05-14T00:00:00Z'],
    ];
    for (const [macro, expected] of cases) {
      const schedule = CronSchedule.parse(macro);
      expect(schedule.hasSeconds).toBe(false);
      expect(chain(schedule, from, 1)).toEqual(utcOf([expected]));
    }
  });

  it('rejects bad expressions with a reason that names the field', () => {
    const forms =
      'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)';
    const cases: [string, string][] = [
      ['', `schedule: is empty; ${forms}`],
      ['   ', `schedule: is empty; ${forms}`],
      ['* * * *', `schedule: ${forms}, got 4`],
      ['0 0 * * * 1 2', `schedule: ${forms}, got 7`],
      ['* * * * * * *', `schedule: ${forms}, got 7`],
      ['61 * * * *', 'schedule: minute field: 61 is out of range 0-59'],
      ['60 * * * * *', 'schedule: second field: 60 is out of range 0-59'],
      ['0 24 * * *', 'schedule: hour field: 24 is out of range 0-23'],
      ['0 0 0 * *', 'schedule: day-of-month field: 0 is out of range 1-31'],
      ['0 0 32 * *', 'schedule: day-of-month field: 32 is out of range 1-31'],
      ['0 0 * 13 *', 'schedule: month field: 13 is out of range 1-12'],
      ['0 0 * * 8', 'schedule: day-of-week field: 8 is out of range 0-7'],
      ['5-70 * * * *', 'schedule: minute field: range 5-70 is out of range 0-59'],
      ['30-10 * * * *', 'schedule: minute field: range 30-10 runs backwards (30 > 10)'],
      ['-1 * * * *', "schedule: minute field: '-1' is not a valid value or range"],
      ['*/0 * * * *', "schedule: minute field: the step in '*/0' must be a positive integer"],
      ['1/2/3 * * * *', "schedule: minute field: '1/2/3' has more than one '/'"],
      ['1,,2 * * * *', "schedule: minute field: '1,,2' has an empty list item"],
      ['1,1 * * * *', "schedule: minute field: 1 is listed more than once in '1,1'"],
      [
        '1.5 * * * *',
        "schedule: minute field: '1.5' contains characters that are not allowed here",
      ],
      [
        '* * * * *;',
        "schedule: day-of-week field: '*;' contains characters that are not allowed here",
      ],
      ['0 0 * * * garbage', "schedule: day-of-week field: 'gar' is not a weekday name (SUN-SAT)"],
      ['0 0 * FOO *', "schedule: month field: 'foo' is not a month name (JAN-DEC)"],
      [
        '*5 * * * *',
        "schedule: minute field: in '*5', '*' must stand alone or before a step (as in */5)",
      ],
      [
        '0 0 * * 1#6',
        "schedule: day-of-week field: in '1#6', '#' must be followed by 1-5 (as in 1#2, the second Monday)",
      ],
      [
        '0 0 * * 1#2,3',
        "schedule: day-of-week field: '#' cannot be combined with ',', '-', '/' or 'L' (in '1#2,3')",
      ],
      [
        '0 0 * * L',
        "schedule: day-of-week field: 'L' must follow a weekday number (as in 5L, the last Friday)",
      ],
      ['0 0 5L * *', 'schedule: day-of-month field: 5L is not valid (expected 1-31 or L)'],
      [
        '0 0 30 2 *',
        "schedule: day-of-month field: '30' never occurs in February, so the schedule would never fire",
      ],
      [
        '0 0 31 4,6 *',
        "schedule: day-of-month field: '31' never occurs in months '4,6', so the schedule would never fire",
      ],
      [
        'H * * * *',
        "schedule: minute field: 'H' (a random value) is not supported: every scheduler replica must compute the same fire times",
      ],
      [
        '0 H/2 * * *',
        "schedule: hour field: 'H' (a random value) is not supported: every scheduler replica must compute the same fire times",
      ],
      [
        '0 0 H(1-5) * *',
        "schedule: day-of-month field: 'H' (a random value) is not supported: every scheduler replica must compute the same fire times",
      ],
      [
        '@secondly',
        "schedule: unknown macro '@secondly'; supported: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly",
      ],
      [
        '@reboot',
        "schedule: unknown macro '@reboot'; supported: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly",
      ],
    ];
    for (const [expression, message] of cases) {
      const error = rejection(expression);
      expect({ expression, message: error.message }).toEqual({ expression, message });
      expect(error.field).toBe('schedule');
      expect(error.message).toBe(`schedule: ${error.reason}`);
    }
  });

  it('does not mistake the H inside THU for a random value', () => {
    expect(chain(CronSchedule.parse('0 9 * * THU'), '2026-01-01T00:00:00Z', 2)).toEqual(
      utcOf(['2026-01-01T09:00:00Z', '2026-01-08T09:00:00Z']),
    );
  });

  it('rejects unknown time zones on the timezone field', () => {
    for (const timezone of [
      '',
      'Mars/Olympus',
      '+05:00',
      ' UTC',
      'UTC ',
      'Europe/Berlin\n',
      '../etc',
    ]) {
      const error = rejection('0 0 * * *', timezone);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('InvalidScheduleError');
      expect(error.field).toBe('timezone');
      expect(error.message.startsWith('timezone: ')).toBe(true);
    }
    expect(rejection('0 0 * * *', 'Mars/Olympus').reason).toBe(
      "'Mars/Olympus' is not a known IANA time zone (for example 'UTC', 'Europe/Berlin')",
    );
  });

  it('returns the cached instance for the same expression and zone', () => {
    const a = CronSchedule.parse('7 7 * * *', 'Asia/Tokyo');
    expect(CronSchedule.parse('7 7 * * *', 'Asia/Tokyo')).toBe(a);
    expect(CronSchedule.parse('7 7 * * *', 'Asia/Seoul')).not.toBe(a);
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA names and links, rejects empty strings, offsets and garbage', () => {
    for (const zone of [
      'UTC',
      'Etc/UTC',
      'Europe/Berlin',
      'America/Argentina/Buenos_Aires',
      'US/Eastern',
      'Etc/GMT+5',
      'America/Port-au-Prince',
    ]) {
      expect({ zone, valid: isValidTimeZone(zone) }).toEqual({ zone, valid: true });
    }
    for (const zone of [
      '',
      ' ',
      'Not/AZone',
      '+05:00',
      'UTC+1',
      'Europe/Berlin ',
      'x'.repeat(100),
      'Europe//Berlin',
    ]) {
      expect({ zone, valid: isValidTimeZone(zone) }).toEqual({ zone, valid: false });
    }
  });
});

describe('zone aliases', () => {
  it('computes the same instants for links and spellings of one zone', () => {
    const from = at('2026-03-07T12:00:00Z');
    const to = at('2026-03-09T12:00:00Z');
    const fires = (expression: string, zone: string): number[] =>
      CronSchedule.parse(expression, zone).between(from, to, 100).instants;
    expect(fires('30 2 * * *', 'US/Eastern')).toEqual(fires('30 2 * * *', 'America/New_York'));
    expect(fires('30 2 * * *', 'US/Eastern')).toEqual([
      at('2026-03-08T03:00:00-04:00'),
      at('2026-03-09T02:30:00-04:00'),
    ]);
    for (const zone of ['Etc/UTC', 'GMT', 'utc']) {
      expect(fires('*/30 * * * *', zone)).toEqual(fires('*/30 * * * *', 'UTC'));
    }
  });
});

describe('next', () => {
  const quarter = CronSchedule.parse('*/15 * * * *');

  it('is strictly after its argument, including fractional milliseconds', () => {
    const fire = at('2026-01-01T10:15:00Z');
    expect(quarter.next(fire - 1)).toBe(fire);
    expect(quarter.next(fire - 0.5)).toBe(fire);
    expect(quarter.next(fire)).toBe(fire + 15 * MINUTE);
    expect(quarter.next(fire + 0.5)).toBe(fire + 15 * MINUTE);
  });

  it('refuses instants that are not finite epoch milliseconds', () => {
    expect(() => quarter.next(Number.NaN)).toThrow(RangeError);
    expect(() => quarter.next(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => quarter.next('2026' as unknown as number)).toThrow(RangeError);
  });

  it('skips months without a 31st', () => {
    expect(chain(CronSchedule.parse('0 0 31 * *'), '2026-01-01T00:00:00Z', 5)).toEqual(
      utcOf([
        '2026-01-31T00:00:00Z',
        '2026-03-31T00:00:00Z',
        '2026-05-31T00:00:00Z',
        '2026-07-31T00:00:00Z',
        '2026-08-31T00:00:00Z',
      ]),
    );
  });

  it('fires on leap days only, and returns null past the 5-year horizon', () => {
    const leap = CronSchedule.parse('0 0 29 2 *', 'Europe/Berlin');
    expect(chain(leap, '2026-01-01T00:00:00Z', 3)).toEqual(
      utcOf([
        '2028-02-29T00:00:00+01:00',
        '2032-02-29T00:00:00+01:00',
        '2036-02-29T00:00:00+01:00',
      ]),
    );
    // 2100 is not a leap year: the next 29 February after 2096 is in 2104, 8 years on.
    expect(leap.next(at('2096-03-01T00:00:00Z'))).toBeNull();
    expect(
      utc(leap.between(at('2096-03-01T00:00:00Z'), at('2105-01-01T00:00:00Z'), 5).instants),
    ).toEqual(utcOf(['2104-02-29T00:00:00+01:00']));
  });

  it('supports L for the last day of the month and nL for the last weekday', () => {
    expect(chain(CronSchedule.parse('0 0 L * *'), '2027-12-15T00:00:00Z', 4)).toEqual(
      utcOf([
        '2027-12-31T00:00:00Z',
        '2028-01-31T00:00:00Z',
        '2028-02-29T00:00:00Z',
        '2028-03-31T00:00:00Z',
      ]),
    );
    expect(
      chain(CronSchedule.parse('0 18 * * 5L', 'America/New_York'), '2026-01-01T00:00:00Z', 3),
    ).toEqual(
      utcOf([
        '2026-01-30T18:00:00-05:00',
        '2026-02-27T18:00:00-05:00',
        '2026-03-27T18:00:00-04:00',
      ]),
    );
  });

  it('supports # for the n-th weekday of the month', () => {
    expect(chain(CronSchedule.parse('0 12 * * 1#2'), '2026-01-01T00:00:00Z', 3)).toEqual(
      utcOf(['2026-01-12T12:00:00Z', '2026-02-09T12:00:00Z', '2026-03-09T12:00:00Z']),
    );
  });

  it('matches either a restricted day-of-month or a restricted day-of-week', () => {
    // The 13th, or any Friday (Vixie cron).
    expect(chain(CronSchedule.parse('0 0 13 * 5'), '2026-02-01T00:00:00Z', 4)).toEqual(
      utcOf([
        '2026-02-06T00:00:00Z',
        '2026-02-13T00:00:00Z',
        '2026-02-20T00:00:00Z',
        '2026-02-27T00:00:00Z',
      ]),
    );
  });

  it('returns null quickly for schedules that never fire within the horizon', () => {
    // A February with five Mondays needs 29 February on a Monday: 2016, then 2044.
    const rare = CronSchedule.parse('0 0 * 2 1#5', 'Asia/Kathmandu');
    const started = performance.now();
    expect(rare.next(at('2026-01-01T00:00:00Z'))).toBeNull();
    expect(
      CronSchedule.parse('0 0 * 2 1#5', 'America/New_York').next(at('2026-01-01T00:00:00Z')),
    ).toBeNull();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(utc([rare.next(at('2040-01-01T00:00:00Z'))])).toEqual(
      utcOf(['2044-02-29T00:00:00+05:45']),
    );
  });
});

describe('between', () => {
  const quarter = CronSchedule.parse('*/15 * * * *');
  const from = at('2026-01-01T00:00:00Z');

  it('returns the instants in (from, to], ascending', () => {
    expect(utc(quarter.between(from, from + HOUR, 10).instants)).toEqual(
      utcOf([
        '2026-01-01T00:15:00Z',
        '2026-01-01T00:30:00Z',
        '2026-01-01T00:45:00Z',
        '2026-01-01T01:00:00Z',
      ]),
    );
    expect(quarter.between(from, from + HOUR, 10).truncated).toBe(false);
    expect(quarter.between(from, from + HOUR - 1, 10).instants).toHaveLength(3);
  });

  it('keeps the earliest `limit` instants and says whether more exist', () => {
    expect(quarter.between(from, from + HOUR, 2)).toEqual({
      instants: [from + 15 * MINUTE, from + 30 * MINUTE],
      truncated: true,
    });
    expect(quarter.between(from, from + HOUR, 4).truncated).toBe(false);
    expect(quarter.between(from, from + HOUR, 0)).toEqual({ instants: [], truncated: true });
    expect(quarter.between(from, from + 10 * MINUTE, 0)).toEqual({
      instants: [],
      truncated: false,
    });
  });

  it('is empty for empty or reversed windows and checks its arguments', () => {
    expect(quarter.between(from, from, 5)).toEqual({ instants: [], truncated: false });
    expect(quarter.between(from + HOUR, from, 5)).toEqual({ instants: [], truncated: false });
    expect(() => quarter.between(from, from + HOUR, -1)).toThrow(RangeError);
    expect(() => quarter.between(from, from + HOUR, 1.5)).toThrow(RangeError);
    expect(() => quarter.between(Number.NaN, from, 1)).toThrow(RangeError);
  });

  it('lists one-second schedules across a fall-back without gaps or repeats', () => {
    const everySecond = CronSchedule.parse('* * * * * *', 'America/New_York');
    const { instants } = everySecond.between(
      at('2026-11-01T01:59:55-04:00'),
      at('2026-11-01T01:00:05-05:00'),
      100,
    );
    expect(instants).toHaveLength(10);
    instants.forEach((instant, i) =>
      expect(instant).toBe(at('2026-11-01T01:59:56-04:00') + i * 1_000),
    );
  });
});

/** Zones and their 2026 offset changes, as ISO instants read off the tz database by hand. */
describe('daylight-saving time', () => {
  /** `between` over a window, as UTC strings. */
  const list = (
    expression: string,
    zone: string,
    fromIso: string,
    toIso: string,
  ): (string | null)[] =>
    utc(CronSchedule.parse(expression, zone).between(at(fromIso), at(toIso), 1_000).instants);

  describe('a fixed wall time in the spring-forward gap fires once, when the gap ends', () => {
    it.each([
      [
        'America/New_York',
        '30 2 * * *',
        '2026-03-07T12:00:00-05:00',
        ['2026-03-08T03:00:00-04:00', '2026-03-09T02:30:00-04:00'],
      ],
      [
        'Europe/Berlin',
        '30 2 * * *',
        '2026-03-28T12:00:00+01:00',
        ['2026-03-29T03:00:00+02:00', '2026-03-30T02:30:00+02:00'],
      ],
      [
        'Australia/Lord_Howe',
        '15 2 * * *',
        '2026-10-03T12:00:00+10:30',
        ['2026-10-04T02:30:00+11:00', '2026-10-05T02:15:00+11:00'],
      ],
      [
        'America/Santiago',
        '0 0 * * *',
        '2026-09-05T12:00:00-04:00',
        ['2026-09-06T01:00:00-03:00', '2026-09-07T00:00:00-03:00'],
      ],
      [
        'America/Santiago',
        '@daily',
        '2026-09-05T12:00:00-04:00',
        ['2026-09-06T01:00:00-03:00', '2026-09-07T00:00:00-03:00'],
      ],
      [
        'Antarctica/Troll',
        '30 1 * * *',
        '2026-03-28T12:00:00+00:00',
        ['2026-03-29T03:00:00+02:00', '2026-03-30T01:30:00+02:00'],
      ],
    ])('%s %s', (zone, expression, fromIso, expected) => {
      expect(chain(CronSchedule.parse(expression, zone), fromIso, 2)).toEqual(utcOf(expected));
    });

    it('merges several gap times, and a gap time with the first real one, into one fire', () => {
      for (const expression of ['0,30 2 * * *', '0 2,3 * * *', '* 2 * * *', '*/20 * 2 * * *']) {
        expect({
          expression,
          fires: list(
            expression,
            'America/New_York',
            '2026-03-08T00:00:00-05:00',
            '2026-03-08T03:59:59-04:00',
          ),
        }).toEqual({
          expression,
          fires: utcOf(['2026-03-08T03:00:00-04:00']),
        });
      }
    });

    it('fires at the gap end even when the search starts a millisecond before it', () => {
      const schedule = CronSchedule.parse('30 2 * * *', 'Europe/Berlin');
      const gapEnd = at('2026-03-29T03:00:00+02:00');
      expect(schedule.next(gapEnd - 1)).toBe(gapEnd);
      expect(utc([schedule.next(gapEnd)])).toEqual(utcOf(['2026-03-30T02:30:00+02:00']));
    });
  });

  describe('a fixed wall time repeated by a fall-back fires once, at its first occurrence', () => {
    it.each([
      [
        'America/New_York',
        '30 1 * * *',
        '2026-10-31T12:00:00-04:00',
        ['2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00'],
      ],
      [
        'Europe/Berlin',
        '30 2 * * *',
        '2026-10-24T12:00:00+02:00',
        ['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00'],
      ],
      [
        'Australia/Lord_Howe',
        '45 1 * * *',
        '2026-04-04T12:00:00+11:00',
        ['2026-04-05T01:45:00+11:00', '2026-04-06T01:45:00+10:30'],
      ],
      [
        'America/Santiago',
        '30 23 * * *',
        '2026-04-04T12:00:00-03:00',
        ['2026-04-04T23:30:00-03:00', '2026-04-05T23:30:00-04:00'],
      ],
      [
        'Antarctica/Troll',
        '0 2 * * *',
        '2026-10-24T12:00:00+02:00',
        ['2026-10-25T02:00:00+02:00', '2026-10-26T02:00:00+00:00'],
      ],
    ])('%s %s', (zone, expression, fromIso, expected) => {
      expect(chain(CronSchedule.parse(expression, zone), fromIso, 2)).toEqual(utcOf(expected));
    });

    it('fires a fixed hour with a minute wildcard only during the first pass', () => {
      const fires = list(
        '*/10 1 * * *',
        'America/New_York',
        '2026-11-01T00:00:00-04:00',
        '2026-11-01T03:00:00-05:00',
      );
      expect(fires).toEqual(
        utcOf(
          ['00', '10', '20', '30', '40', '50'].map((minute) => `2026-11-01T01:${minute}:00-04:00`),
        ),
      );
    });

    it('does not fire the second occurrence when the search starts inside the second pass', () => {
      const schedule = CronSchedule.parse('45 1 * * *', 'America/New_York');
      expect(utc([schedule.next(at('2026-11-01T01:40:00-05:00'))])).toEqual(
        utcOf(['2026-11-02T01:45:00-05:00']),
      );
    });
  });

  describe('wildcard and step hours follow real time', () => {
    it.each([
      [
        'America/New_York',
        '*/15 * * * *',
        '2026-11-01T00:50:00-04:00',
        [
          '2026-11-01T01:00:00-04:00',
          '2026-11-01T01:15:00-04:00',
          '2026-11-01T01:30:00-04:00',
          '2026-11-01T01:45:00-04:00',
          '2026-11-01T01:00:00-05:00',
          '2026-11-01T01:15:00-05:00',
          '2026-11-01T01:30:00-05:00',
          '2026-11-01T01:45:00-05:00',
          '2026-11-01T02:00:00-05:00',
        ],
      ],
      [
        'America/New_York',
        '0 * * * *',
        '2026-11-01T00:30:00-04:00',
        ['2026-11-01T01:00:00-04:00', '2026-11-01T01:00:00-05:00', '2026-11-01T02:00:00-05:00'],
      ],
      [
        'America/New_York',
        '0 * * * *',
        '2026-03-08T00:30:00-05:00',
        ['2026-03-08T01:00:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T04:00:00-04:00'],
      ],
      [
        'America/New_York',
        '30 * * * *',
        '2026-03-08T00:45:00-05:00',
        ['2026-03-08T01:30:00-05:00', '2026-03-08T03:30:00-04:00'],
      ],
      [
        'Europe/Berlin',
        '*/30 * * * *',
        '2026-10-25T01:45:00+02:00',
        [
          '2026-10-25T02:00:00+02:00',
          '2026-10-25T02:30:00+02:00',
          '2026-10-25T02:00:00+01:00',
          '2026-10-25T02:30:00+01:00',
          '2026-10-25T03:00:00+01:00',
        ],
      ],
      [
        'Europe/Berlin',
        '0 */2 * * *',
        '2026-10-25T01:00:00+02:00',
        ['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T04:00:00+01:00'],
      ],
      [
        'Europe/Berlin',
        '0 0-23 * * *',
        '2026-10-25T01:30:00+02:00',
        ['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T03:00:00+01:00'],
      ],
      [
        'Europe/Berlin',
        '@hourly',
        '2026-03-29T00:30:00+01:00',
        ['2026-03-29T01:00:00+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T04:00:00+02:00'],
      ],
      [
        'Australia/Lord_Howe',
        '0,30 * * * *',
        '2026-10-04T00:45:00+10:30',
        [
          '2026-10-04T01:00:00+10:30',
          '2026-10-04T01:30:00+10:30',
          '2026-10-04T02:30:00+11:00',
          '2026-10-04T03:00:00+11:00',
        ],
      ],
      [
        'Australia/Lord_Howe',
        '*/15 * * * *',
        '2026-04-05T01:10:00+11:00',
        [
          '2026-04-05T01:15:00+11:00',
          '2026-04-05T01:30:00+11:00',
          '2026-04-05T01:45:00+11:00',
          '2026-04-05T01:30:00+10:30',
          '2026-04-05T01:45:00+10:30',
          '2026-04-05T02:00:00+10:30',
        ],
      ],
    ])('%s %s', (zone, expression, fromIso, expected) => {
      expect(chain(CronSchedule.parse(expression, zone), fromIso, expected.length)).toEqual(
        utcOf(expected),
      );
    });

    it.each([
      ['America/New_York', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'],
      ['America/New_York', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z'],
      ['Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z'],
      ['Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z'],
      ['Australia/Lord_Howe', '2026-10-02T00:00:00Z', '2026-10-05T00:00:00Z'],
    ])('*/15 in %s from %s is evenly spaced in real time', (zone, fromIso, toIso) => {
      const { instants } = CronSchedule.parse('*/15 * * * *', zone).between(
        at(fromIso),
        at(toIso),
        10_000,
      );
      expect(instants.length).toBeGreaterThan(250);
      const spacing = new Set(instants.slice(1).map((instant, i) => instant - instants[i]));
      expect([...spacing]).toEqual([15 * MINUTE]);
    });
  });

  it('fires fixed daily schedules exactly once per local day through both changes of a year', () => {
    for (const zone of [
      'America/New_York',
      'Europe/Berlin',
      'Australia/Lord_Howe',
      'America/Santiago',
    ]) {
      for (const expression of ['30 1 * * *', '30 2 * * *', '0 0 * * *', '59 23 * * *']) {
        const { instants, truncated } = CronSchedule.parse(expression, zone).between(
          at('2026-01-01T12:00:00Z'),
          at('2027-01-01T12:00:00Z'),
          1_000,
        );
        const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: zone });
        const days = instants.map((instant) => localDate.format(instant));
        expect({
          zone,
          expression,
          truncated,
          count: instants.length,
          distinctDays: new Set(days).size,
        }).toEqual({
          zone,
          expression,
          truncated: false,
          count: 365,
          distinctDays: 365,
        });
      }
    }
  });
});

/** Local wall clock of `instant` in `zone`, as ms since 1970 of that reading taken as UTC (straight from Intl). */
const wallFormats = new Map<string, Intl.DateTimeFormat>();
function wallClock(zone: string, instant: number): number {
  let format = wallFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallFormats.set(zone, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const get = (type: string): number => Number(parts.find((part) => part.type === type)?.value);
  return Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
}

/**
 * Brute-force reference for 5-field schedules: walks every minute of real
 * time, reads the wall clock from Intl and matches it with cron-parser's
 * `includesDate`, applying the DST rules as stated (no shared code with the
 * implementation).
 */
function referenceFires(expression: string, zone: string, from: number, to: number): number[] {
  const matcher = CronExpressionParser.parse(`0 ${expression}`, { tz: 'UTC' });
  const matches = (wall: number): boolean => matcher.includesDate(new Date(wall));
  const hourField = expression.trim().split(/\s+/)[1];
  const realTime = /[*?/]/.test(hourField) || hourField === '0-23';
  const seen = new Set<number>();
  const fires: number[] = [];
  let previousWall = wallClock(zone, from);
  seen.add(previousWall);
  for (let instant = from + MINUTE; instant <= to; instant += MINUTE) {
    const wall = wallClock(zone, instant);
    let fire = matches(wall) && (realTime || !seen.has(wall));
    if (!realTime) {
      // Wall minutes the clock jumped over (a spring-forward gap) fire now.
      for (let skipped = previousWall + MINUTE; skipped < wall && !fire; skipped += MINUTE) {
        fire = matches(skipped);
      }
    }
    if (fire) fires.push(instant);
    seen.add(wall);
    previousWall = wall;
  }
  return fires;
}

function randomFiveFieldExpression(random: () => number, dstHeavy: boolean): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const list = (min: number, max: number): string => {
    const values = new Set<number>();
    for (let n = int(2, 3); values.size < n;) values.add(int(min, max));
    return [...values].sort((a, b) => a - b).join(',');
  };
  const numeric = (min: number, max: number, special: string[] = []): string => {
    const a = int(min, max);
    const b = int(a, max);
    return pick([
      '*',
      `${a}`,
      `${a}-${b}`,
      `*/${int(1, Math.max(2, Math.floor((max - min) / 2)))}`,
      `${a}-${b}/${int(1, 5)}`,
      list(min, max),
      ...special,
    ]);
  };
  const minute = dstHeavy
    ? pick(['0', '30', '15,45', '*/15', '*/30', '*', numeric(0, 59)])
    : numeric(0, 59);
  const hour = dstHeavy
    ? pick(['*', '1', '2', '0', '23', '1-3', '*/2', '0-23', '1,2,3', numeric(0, 23)])
    : numeric(0, 23);
  const month = pick(['*', '*', numeric(1, 12), 'JAN-JUN', 'MAR,OCT,NOV']);
  const dayOfMonth = pick([
    '*',
    '*',
    '*',
    month === '*' ? numeric(1, 31, ['L']) : numeric(1, 28, ['L']),
  ]);
  const dayOfWeek = pick([
    '*',
    '*',
    '*',
    numeric(0, 6),
    '7',
    'MON-FRI',
    `${int(0, 6)}L`,
    `${int(0, 6)}#${int(1, 5)}`,
  ]);
  return `${minute} ${hour} ${dayOfMonth} ${month} ${dayOfWeek}`;
}

describe('against independent references', () => {
  /** Transitions of 2026 (UTC instants) in zones with 1 h, 30 min, 2 h and midnight shifts. */
  const transitions: [string, string][] = [
    ['America/New_York', '2026-03-08T07:00:00Z'],
    ['America/New_York', '2026-11-01T06:00:00Z'],
    ['Europe/Berlin', '2026-03-29T01:00:00Z'],
    ['Europe/Berlin', '2026-10-25T01:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
    ['America/Santiago', '2026-04-05T03:00:00Z'],
    ['America/Santiago', '2026-09-06T04:00:00Z'],
    ['Antarctica/Troll', '2026-03-29T01:00:00Z'],
    ['Antarctica/Troll', '2026-10-25T01:00:00Z'],
    ['Pacific/Chatham', '2026-04-04T14:00:00Z'],
    ['Africa/Casablanca', '2026-03-22T02:00:00Z'],
  ];

  it('matches a minute-by-minute reference around offset changes (seed 7)', () => {
    const random = prng(7);
    for (const [zone, change] of transitions) {
      const from = at(change) - 5 * HOUR;
      const to = at(change) + 5 * HOUR;
      for (let i = 0; i < 6; i++) {
        const expression = randomFiveFieldExpression(random, true).replace(
          / \S+ \S+ \S+$/,
          ' * * *',
        );
        const actual = CronSchedule.parse(expression, zone).between(from, to, 10_000).instants;
        expect({ zone, expression, fires: utc(actual) }).toEqual({
          zone,
          expression,
          fires: utc(referenceFires(expression, zone, from, to)),
        });
      }
    }
  });

  it('matches cron-parser where no offset changes (UTC), including L, # and day-of-week rules (seed 11)', () => {
    const random = prng(11);
    for (let i = 0; i < 150; i++) {
      const expression = randomFiveFieldExpression(random, false);
      const withSeconds =
        random() < 0.3 ? `${Math.floor(random() * 60)} ${expression}` : expression;
      let schedule: CronSchedule;
      try {
        schedule = CronSchedule.parse(withSeconds);
      } catch (error: unknown) {
        // Only a day that no selected month has (e.g. 31 with APR) may be refused.
        expect((error as Error).message).toMatch(/never occurs/);
        continue;
      }
      const start =
        at('2000-01-01T00:00:00Z') +
        Math.floor(random() * 40 * 365) * DAY +
        Math.floor(random() * DAY);
      const reference = CronExpressionParser.parse(withSeconds, { tz: 'UTC', currentDate: start })
        .take(8)
        .map((date) => date.getTime())
        .filter((instant) => instant <= start + NEXT_HORIZON_MS);
      let cursor = start;
      const actual: number[] = [];
      for (let n = 0; n < reference.length; n++) {
        const instant = schedule.next(cursor);
        if (instant === null) break;
        actual.push(instant);
        cursor = instant;
      }
      expect({ expression: withSeconds, fires: utc(actual) }).toEqual({
        expression: withSeconds,
        fires: utc(reference),
      });
    }
  });

  it('keeps next strictly increasing and equal to the first instant of between (fuzz, seed 23)', () => {
    const random = prng(23);
    const zones = [
      'UTC',
      'America/New_York',
      'Europe/Berlin',
      'Australia/Lord_Howe',
      'America/Santiago',
      'Asia/Kolkata',
      'Pacific/Chatham',
      'Antarctica/Troll',
      'Africa/Casablanca',
      'America/St_Johns',
    ];
    for (let i = 0; i < 200; i++) {
      const zone = zones[i % zones.length];
      const five = randomFiveFieldExpression(random, random() < 0.5);
      const expression =
        random() < 0.25 ? `${random() < 0.5 ? '*/20' : Math.floor(random() * 60)} ${five}` : five;
      let schedule: CronSchedule;
      try {
        schedule = CronSchedule.parse(expression, zone);
      } catch (error: unknown) {
        expect((error as Error).message).toMatch(/never occurs/);
        continue;
      }
      // Around a random instant in 2020-2035, biased towards DST seasons.
      const start =
        at('2020-01-01T00:00:00Z') +
        Math.floor(random() * 15 * 365) * DAY +
        Math.floor(random() * DAY) +
        Math.floor(random() * 1_000);
      const context = { zone, expression, start: new Date(start).toISOString() };
      let cursor = start;
      const chained: number[] = [];
      for (let n = 0; n < 12; n++) {
        const instant = schedule.next(cursor);
        const first = schedule.between(cursor, cursor + NEXT_HORIZON_MS, 1).instants[0] ?? null;
        expect({ ...context, n, next: instant }).toEqual({ ...context, n, next: first });
        if (instant === null) break;
        expect({ ...context, increasing: instant > cursor }).toEqual({
          ...context,
          increasing: true,
        });
        chained.push(instant);
        cursor = instant;
      }
      if (chained.length > 0) {
        const listed = schedule.between(start, chained[chained.length - 1], 1_000).instants;
        expect({ ...context, listed: utc(listed) }).toEqual({ ...context, listed: utc(chained) });
      }
    }
  });
});
