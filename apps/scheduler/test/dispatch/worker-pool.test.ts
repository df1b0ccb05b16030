import type { WorkerInfo } from '@app/contracts';
import { WorkerPool } from '../../src/dispatch/worker-pool';

function info(capacity: number, labels: Record<string, string> = {}, draining = false): WorkerInfo {
  return { endpoint: 'h:1', pid: 1, startedAt: 0, capacity, labels, draining };
}

describe('WorkerPool', () => {
  test('picks the least loaded worker (assigned ÷ capacity)', () => {
    const pool = new WorkerPool();
    const a = pool.upsert('a', info(4));
    pool.upsert('b', info(8));
    a.assigned.add('t1'); // a: 1/4 = 0.25, b: 0/8
    expect(pool.choose(undefined)?.map((w) => w.id)).toEqual(['b']);
    for (const t of ['t2', 't3', 't4']) pool.get('b')!.assigned.add(t); // b: 3/8 = 0.375
    expect(pool.choose(undefined)?.map((w) => w.id)).toEqual(['a']);
  });

  test('equal loads take turns (round robin)', () => {
    const pool = new WorkerPool();
    for (const id of ['a', 'b', 'c']) pool.upsert(id, info(10));
    const picks = Array.from({ length: 6 }, () => pool.choose(undefined)![0].id);
    expect(new Set(picks.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
    expect(picks.slice(3)).toEqual(picks.slice(0, 3));
  });

  test('only workers with every selector label, with room, and not draining', () => {
    const pool = new WorkerPool();
    pool.upsert('gpu', info(1, { gpu: 'yes', zone: 'a' }));
    pool.upsert('cpu', info(1, { zone: 'a' }));
    pool.upsert('drain', info(5, { gpu: 'yes', zone: 'a' }, true));
    expect(pool.choose({ labels: { gpu: 'yes' } })?.map((w) => w.id)).toEqual(['gpu']);
    pool.get('gpu')!.assigned.add('t');
    expect(pool.choose({ labels: { gpu: 'yes' } })).toBeUndefined(); // full; the draining one never counts
    expect(pool.choose({ labels: { zone: 'a' } })?.map((w) => w.id)).toEqual(['cpu']);
    expect(pool.freeCapacity()).toBe(1);
  });

  test('a gang gets distinct workers, or none when too few qualify', () => {
    const pool = new WorkerPool();
    for (const id of ['a', 'b', 'c']) pool.upsert(id, info(1));
    const gang = pool.choose(undefined, 3)!;
    expect(new Set(gang.map((w) => w.id)).size).toBe(3);
    pool.get('a')!.assigned.add('t');
    expect(pool.choose(undefined, 3)).toBeUndefined();
  });

  test('a refresh keeps the assignments; remove forgets the worker', () => {
    const pool = new WorkerPool();
    pool.upsert('a', info(2)).assigned.add('t');
    pool.upsert('a', info(3, {}, true));
    expect(pool.get('a')!.assigned.has('t')).toBe(true);
    expect(pool.freeCapacity()).toBe(0);
    expect(pool.remove('a')?.assigned.size).toBe(1);
    expect(pool.size).toBe(0);
  });
});
