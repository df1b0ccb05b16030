import { MinHeap } from '../../src/dispatch/min-heap';
import { Timers } from '../../src/dispatch/timers';

describe('MinHeap', () => {
  test('pops in key order, ties in insertion order', () => {
    const heap = new MinHeap<string>();
    const keys = [5, 1, 4, 1, 3, 9, 2, 6];
    keys.forEach((key, i) => heap.push(key, `${key}:${i}`));
    const popped: string[] = [];
    while (heap.size > 0) popped.push(heap.pop()!);
    expect(popped).toEqual(['1:1', '1:3', '2:6', '3:4', '4:2', '5:0', '6:7', '9:5']);
  });

  test('popUntil takes exactly the due entries', () => {
    const heap = new MinHeap<number>();
    for (const key of [30, 10, 20, 40]) heap.push(key, key);
    expect(heap.popUntil(25)).toEqual([10, 20]);
    expect(heap.peekKey()).toBe(30);
  });
});

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
