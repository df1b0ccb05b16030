import { Backoff } from '../../src/client/backoff';

/** The one backoff rule: doubling from minMs to maxMs, jitter taking up to its share off. */

test('doubles from the first delay up to the ceiling, back to the first after a reset', () => {
  const backoff = new Backoff({ minMs: 100, maxMs: 1_000 });
  expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1_000]);
  expect(backoff.attempts).toBe(5);
  backoff.reset();
  expect(backoff.next()).toBe(100);
});

test('delayAfter: the same rule for a count kept elsewhere (a row in PostgreSQL)', () => {
  const options = { minMs: 1_000, maxMs: 3_600_000 };
  expect([0, 1, 2, 12, 13, 1_000].map((n) => Backoff.delayAfter(options, n))).toEqual([
    1_000, 2_000, 4_000, 3_600_000, 3_600_000, 3_600_000,
  ]);
  expect(Backoff.delayAfter(options, -1)).toBe(1_000);
});

test('jitter takes at most its share off, never adds', () => {
  const options = { minMs: 1_000, maxMs: 1_000, jitter: 0.2 };
  for (let i = 0; i < 200; i++) {
    const delay = Backoff.delayAfter(options, 3);
    expect(delay).toBeGreaterThanOrEqual(800);
    expect(delay).toBeLessThanOrEqual(1_000);
  }
});
