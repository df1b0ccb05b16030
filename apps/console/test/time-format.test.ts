import { duration, elapsed, relative, utcTitle, wallTime } from '../src/logic/time-format';

describe('time formatting', () => {
  const instant = '2030-07-01T08:00:05.000Z';

  it('shows the wall clock of a zone, and of the browser by default', () => {
    expect(wallTime(instant, 'UTC')).toBe('2030-07-01 08:00:05');
    expect(wallTime(instant, 'Europe/Paris')).toBe('2030-07-01 10:00:05');
    expect(wallTime(instant, 'America/New_York')).toBe('2030-07-01 04:00:05');
    expect(wallTime(Date.parse('2030-01-01T00:30:00Z'), 'Asia/Kolkata')).toBe(
      '2030-01-01 06:00:00',
    );
    expect(wallTime('not a time')).toBe('—');
    // The test process's own zone: whatever it is, the format holds.
    expect(wallTime(instant)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('titles with the exact UTC instant', () => {
    expect(utcTitle(instant)).toBe('2030-07-01T08:00:05.000Z UTC');
    expect(utcTitle('garbage')).toBe('');
  });

  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [4_240, '4.2 s'],
    [42_000, '42 s'],
    [185_000, '3 min 05 s'],
    [7_620_000, '2 h 07 min'],
    [-1, '—'],
    [Number.NaN, '—'],
  ])('duration(%d) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it('says how far away an instant is', () => {
    const now = Date.parse(instant);
    expect(relative(now + 300_000, now)).toBe('in 5 min');
    expect(relative(now - 12_000, now)).toBe('12 s ago');
    expect(relative(now + 200, now)).toBe('now');
    expect(relative(now - 7_300_000, now)).toBe('2 h 01 min ago');
  });

  it('measures a run, or a running one against now', () => {
    const now = Date.parse('2030-07-01T08:01:00Z');
    expect(elapsed('2030-07-01T08:00:00Z', '2030-07-01T08:00:02.500Z', now)).toBe('2.5 s');
    expect(elapsed('2030-07-01T08:00:00Z', null, now)).toBe('1 min 00 s');
    expect(elapsed(null, null, now)).toBe('—');
  });
});
