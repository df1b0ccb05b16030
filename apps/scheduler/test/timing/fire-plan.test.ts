import { planFires, type FirePlanInput } from '../../src/timing/fire-plan';
import { OneOffSchedule, type FireSchedule } from '../../src/timing/fire-schedule';

/** Fires every `period` ms from 0: enough to test the policy without cron. */
function every(period: number): FireSchedule {
  return {
    next: (after) => (Math.floor(after / period) + 1) * period,
    between: (from, to, limit) => {
      const instants: number[] = [];
      for (let t = (Math.floor(from / period) + 1) * period; t <= to; t += period) {
        if (instants.length === limit) return { instants, truncated: true };
        instants.push(t);
      }
      return { instants, truncated: false };
    },
  };
}

const base: Omit<FirePlanInput, 'policy'> = {
  schedule: every(1_000),
  baseline: 10_000, // last fired at 10 s
  now: 20_500, // the leader came back at 20.5 s
  misfireThresholdMs: 2_000, // instants before 18.5 s are missed
  fireAllCap: 3,
};

describe('planFires', () => {
  test('nothing missed: only the late instants within the threshold fire, then the next is due', () => {
    const plan = planFires({ ...base, policy: 'skip', baseline: 18_000 });
    expect(plan).toEqual({
      fire: [19_000, 20_000],
      skipped: { count: 0 },
      lastFireAt: 20_000,
      nextFireAt: 21_000,
    });
  });

  test('skip: every missed instant is skipped, the late ones still fire', () => {
    const plan = planFires({ ...base, policy: 'skip' });
    expect(plan.skipped).toEqual({ count: 8, first: 11_000, last: 18_000 });
    expect(plan.fire).toEqual([19_000, 20_000]);
    expect(plan.lastFireAt).toBe(20_000);
  });

  test('fire_once: the latest missed instant fires once, the others are skipped', () => {
    const plan = planFires({ ...base, policy: 'fire_once' });
    expect(plan.fire).toEqual([18_000, 19_000, 20_000]);
    expect(plan.skipped).toEqual({ count: 7, first: 11_000, last: 17_000 });
  });

  test('fire_all: the latest missed instants fire up to the cap, the older ones are skipped', () => {
    const plan = planFires({ ...base, policy: 'fire_all' });
    expect(plan.fire).toEqual([16_000, 17_000, 18_000, 19_000, 20_000]);
    expect(plan.skipped).toEqual({ count: 5, first: 11_000, last: 15_000 });
    const all = planFires({ ...base, policy: 'fire_all', fireAllCap: 100 });
    expect(all.fire).toHaveLength(10);
    expect(all.skipped.count).toBe(0);
  });

  test('only skipped instants: lastFireAt is the latest skipped one', () => {
    const plan = planFires({ ...base, policy: 'skip', misfireThresholdMs: 0 });
    expect(plan.fire).toEqual([]);
    expect(plan.skipped).toEqual({ count: 10, first: 11_000, last: 20_000 });
    expect(plan.lastFireAt).toBe(20_000);
    expect(plan.nextFireAt).toBe(21_000);
  });

  test('a day of missed instants is planned without walking every one of them', () => {
    const day = 86_400_000;
    const started = Date.now();
    const plan = planFires({
      ...base,
      schedule: every(1_000),
      baseline: 0,
      now: day,
      policy: 'fire_all',
      fireAllCap: 3,
    });
    expect(Date.now() - started).toBeLessThan(500);
    expect(plan.fire).toEqual([day - 4_000, day - 3_000, day - 2_000, day - 1_000, day]);
    // A lower bound: the exact count is not worth walking a day of instants.
    expect(plan.skipped.count).toBeGreaterThan(9_000);
    expect(plan.skipped.first).toBe(1_000);
    expect(plan.skipped.last).toBe(day - 5_000);
  });

  test('a one-off job fires once, late or missed per policy, and then never again', () => {
    const schedule = new OneOffSchedule(15_000);
    expect(planFires({ ...base, schedule, policy: 'fire_once' })).toEqual({
      fire: [15_000],
      skipped: { count: 0 },
      lastFireAt: 15_000,
      nextFireAt: null,
    });
    expect(planFires({ ...base, schedule, policy: 'skip' }).skipped.count).toBe(1);
    expect(planFires({ ...base, schedule, policy: 'skip', baseline: 15_000 }).fire).toEqual([]);
    expect(
      planFires({ ...base, schedule: new OneOffSchedule(30_000), policy: 'skip' }).nextFireAt,
    ).toBe(30_000);
  });
});
