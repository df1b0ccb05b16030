import { Backoff } from '@app/zk';
import { parseBarrierName } from '../../src/retention/barrier-cleanup';
import { RetentionQueue } from '../../src/retention/retention-queue';

describe('RetentionQueue', () => {
  it('gives tasks back by due time, each once, an earlier offer winning', () => {
    const queue = new RetentionQueue();
    queue.offer('b', 20);
    queue.offer('a', 30);
    queue.offer('c', 10);
    queue.offer('a', 5); // earlier: moves up
    queue.offer('b', 50); // later: ignored
    expect(queue.size).toBe(3);
    expect(queue.nextDue()).toBe(5);
    expect(queue.takeDue(15, 10)).toEqual(['a', 'c']);
    expect(queue.takeDue(15, 10)).toEqual([]);
    expect(queue.nextDue()).toBe(20);
    expect(queue.takeDue(100, 10)).toEqual(['b']);
    expect(queue.size).toBe(0);
    expect(queue.nextDue()).toBeUndefined();
  });

  it('takes at most `max` at once and refuses new tasks when full', () => {
    const queue = new RetentionQueue(3);
    expect(['a', 'b', 'c', 'd'].map((id, i) => queue.offer(id, i))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(queue.offer('a', 0)).toBe(true); // already held
    expect(queue.takeDue(10, 2)).toEqual(['a', 'b']);
  });
});

describe('Backoff', () => {
  it('doubles from 100 ms up to its ceiling, with at most 20 % jitter, and resets', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1_000, jitter: 0.2 });
    const delays = Array.from({ length: 6 }, () => backoff.next());
    const bases = [100, 200, 400, 800, 1_000, 1_000];
    delays.forEach((delay, i) => {
      expect(delay).toBeLessThanOrEqual(bases[i]);
      expect(delay).toBeGreaterThanOrEqual(bases[i] * 0.8);
    });
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(100);
  });
});

describe('parseBarrierName', () => {
  it('splits at the last dash (task ids hold dashes)', () => {
    expect(parseBarrierName('6f1c-aa@12-3')).toEqual({ taskId: '6f1c-aa@12', attempt: 3 });
    expect(parseBarrierName('abc')).toBeUndefined();
    expect(parseBarrierName('abc-0')).toBeUndefined();
  });
});
