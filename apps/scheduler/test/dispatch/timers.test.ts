import { Timers } from '../../src/dispatch/timers';

describe('Timers', () => {
  test('one timer serves many entries, each fired once, in order, not early', async () => {
    const fired: Array<[string, number]> = [];
    const start = Date.now();
    const timers = new Timers<string>((entry) => fired.push([entry, Date.now() - start]));
    timers.schedule(start + 60, 'c');
    timers.schedule(start + 20, 'a');
    timers.schedule(start + 40, 'b');
    timers.schedule(start - 5, 'overdue');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(fired.map(([entry]) => entry)).toEqual(['overdue', 'a', 'b', 'c']);
    for (const [entry, at] of fired.slice(1))
      expect(at).toBeGreaterThanOrEqual({ a: 19, b: 39, c: 59 }[entry]!);
    timers.stop();
  });

  test('entries due together fire in the order scheduled', async () => {
    const fired: string[] = [];
    let now = 1_000;
    const timers = new Timers<string>(
      (entry) => fired.push(entry),
      () => now,
    );
    for (const [at, entry] of [
      [5, 'x'],
      [1, 'a'],
      [1, 'b'],
      [3, 'c'],
      [1, 'd'],
    ] as const)
      timers.schedule(now + at, entry);
    now += 10;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toEqual(['a', 'b', 'd', 'c', 'x']);
    timers.stop();
  });

  test('stop drops what is pending', async () => {
    const fired: string[] = [];
    const timers = new Timers<string>((entry) => fired.push(entry));
    timers.schedule(Date.now() + 10, 'x');
    timers.stop();
    timers.schedule(Date.now(), 'y');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toEqual([]);
  });
});
