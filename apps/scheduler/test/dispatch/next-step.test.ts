import type { TaskRecord } from '@app/contracts';
import { memberSucceededRecord, newTaskRecord, toAssigned, toFailedAttempt } from '@app/store';
import { deadlineOf, nextStep } from '../../src/dispatch/next-step';

const NOW = 100_000;
const TUNING = { fireLeadMs: 1_500, timeoutGraceMs: 5_000 };
const live =
  (...ids: string[]) =>
  (worker: string) =>
    ids.includes(worker);

function pending(fields: Partial<TaskRecord> = {}): TaskRecord {
  return {
    ...newTaskRecord({ type: 'x', payload: {}, runAt: NOW + 10_000 }, NOW - 1_000),
    ...fields,
  };
}

describe("the leader's next step for a stored task", () => {
  it('pending: assign from its instant less the fire lead; retrying: from retryAt', () => {
    expect(nextStep(pending(), live(), TUNING, NOW)).toEqual({ kind: 'assign', at: NOW + 8_500 });
    const retrying = toFailedAttempt(
      toAssigned(pending({ retry: { maxAttempts: 3, backoffMs: 200 } }), ['w'], NOW),
      { code: 'handler', message: 'x' },
      NOW,
    );
    expect(nextStep(retrying, live('w'), TUNING, NOW)).toEqual({ kind: 'assign', at: NOW + 200 });
  });

  it('finished (succeeded, failed, cancelled): forget it', () => {
    for (const state of ['succeeded', 'failed', 'cancelled'] as const) {
      expect(nextStep(pending({ state }), live(), TUNING, NOW)).toEqual({ kind: 'forget' });
    }
  });

  it('on live workers: watch it, with the deadline of its timeout after assignment and runAt', () => {
    const assigned = toAssigned(pending({ runAt: NOW - 500, timeoutMs: 2_000 }), ['w'], NOW);
    expect(nextStep(assigned, live('w'), TUNING, NOW)).toEqual({
      kind: 'watch',
      holders: ['w'],
      deadline: NOW + 2_000 + 5_000,
    });
    const noTimeout = toAssigned(pending(), ['w'], NOW);
    expect(nextStep(noTimeout, live('w'), TUNING, NOW)).toMatchObject({ deadline: undefined });
    // A task assigned ahead of its instant: the timeout runs from the instant.
    expect(deadlineOf(toAssigned(pending({ timeoutMs: 1 }), ['w'], NOW), 0)).toBe(NOW + 10_001);
  });

  it('a holder that is not a live worker: reassign, naming the dead ones', () => {
    const gang = toAssigned(pending({ parallelism: 3 }), ['a', 'b', 'c'], NOW);
    expect(nextStep(gang, live('a', 'c'), TUNING, NOW)).toEqual({ kind: 'reassign', dead: ['b'] });
    expect(nextStep(gang, live('a', 'b', 'c'), TUNING, NOW)).toMatchObject({ kind: 'watch' });
    // A member that succeeded holds nothing any more: its leaving changes nothing.
    const partly = memberSucceededRecord({ ...gang, state: 'running' }, 'b', undefined, NOW);
    expect(nextStep(partly, live('a', 'c'), TUNING, NOW)).toEqual({
      kind: 'watch',
      holders: ['a', 'c'],
      deadline: undefined,
    });
  });

  it('assigned with no worker at all (a damaged record): reassign', () => {
    expect(nextStep(pending({ state: 'assigned' }), live(), TUNING, NOW)).toEqual({
      kind: 'reassign',
      dead: [],
    });
  });
});
