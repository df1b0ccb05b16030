import { isoTime } from '../src/iso-time';

const FIRST_FOUR_DIGIT_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LAST_FOUR_DIGIT_MS = Date.parse('9999-12-31T23:59:59.999Z');

describe('isoTime', () => {
  it.each([
    0,
    -0,
    1,
    -1,
    999,
    1000,
    59_999,
    60_000,
    -60_000,
    -60_001,
    951_782_400_000, // 2000-02-29
    4_102_444_799_999, // 2099-12-31T23:59:59.999
    FIRST_FOUR_DIGIT_MS,
    FIRST_FOUR_DIGIT_MS - 1,
    LAST_FOUR_DIGIT_MS,
    LAST_FOUR_DIGIT_MS + 1,
    8.64e15,
    -8.64e15,
    1.5,
    -1234.75,
  ])('writes %p as Date#toISOString does', (ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('agrees with Date#toISOString on random times, near and far, in any order', () => {
    const now = Date.now();
    for (let i = 0; i < 200_000; i++) {
      const ms =
        i % 3 === 0
          ? Math.floor((Math.random() * 2 - 1) * 8.64e15)
          : i % 3 === 1
            ? Math.floor(
                FIRST_FOUR_DIGIT_MS + Math.random() * (LAST_FOUR_DIGIT_MS - FIRST_FOUR_DIGIT_MS),
              )
            : now + Math.floor(Math.random() * 600_000) - 300_000;
      const expected = new Date(ms).toISOString();
      if (isoTime(ms) !== expected) expect(`${ms} → ${isoTime(ms)}`).toBe(`${ms} → ${expected}`);
    }
  });
});
