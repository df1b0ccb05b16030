import { newTaskRecord } from '@app/store';
import type { TaskRecord } from '@app/contracts';
import {
  holdersOf,
  toAssigned,
  toCancelled,
  toFailedAttempt,
  toPending,
  toStarted,
  toSucceeded,
} from '../src/task-transitions';

const NOW = 1_000_000;

function running(retry = { maxAttempts: 3, backoffMs: 1_000 }, failures = 0): TaskRecord {
  const record = newTaskRecord({ type: 'noop', payload: {}, retry }, NOW - 100);
  return toStarted(
    { ...record, state: 'assigned', attempt: failures + 1, failures, workerId: 'w1' },
    NOW - 50,
  );
}

describe('task transitions (protocol steps 3, 4, 9)', () => {
  it('start: running from startedAt', () => {
    expect(running()).toMatchObject({ state: 'running', startedAt: NOW - 50, workerId: 'w1' });
  });

  it('success: result and finishedAt; a stale error or retryAt goes', () => {
    const next = toSucceeded(
      { ...running(), error: { code: 'x', message: 'y' }, retryAt: 5 },
      { ok: 1 },
      NOW,
    );
    expect(next).toMatchObject({ state: 'succeeded', result: { ok: 1 }, finishedAt: NOW });
    expect(next.error).toBeUndefined();
    expect(next.retryAt).toBeUndefined();
  });

  it.each([
    [0, 'retrying', NOW + 1_000],
    [1, 'retrying', NOW + 2_000],
    [2, 'failed', undefined],
  ])(
    'failure with %i earlier failures of 3 attempts → %s (retryAt = now + backoff × 2^failures)',
    (failures, state, retryAt) => {
      const next = toFailedAttempt(
        running(undefined, failures),
        { code: 'handler', message: 'boom' },
        NOW,
      );
      expect(next.state).toBe(state);
      expect(next.failures).toBe(failures + 1);
      expect(next.retryAt).toBe(retryAt);
      expect(next.finishedAt).toBe(state === 'failed' ? NOW : undefined);
      expect(next.error).toEqual({ code: 'handler', message: 'boom' });
    },
  );

  it('a final failure fails the task whatever attempts remain', () => {
    const next = toFailedAttempt(running(), { code: 'unknown_type', message: 'm' }, NOW, true);
    expect(next).toMatchObject({ state: 'failed', failures: 1, finishedAt: NOW });
  });

  it('hand back: pending, no worker, attempt kept (the leader adds one when it assigns)', () => {
    const next = toPending({ ...running(), workers: ['w1', 'w2'], members: {} });
    expect(next.state).toBe('pending');
    expect(next.attempt).toBe(1);
    for (const field of ['workerId', 'workers', 'members', 'startedAt'] as const) {
      expect(next[field]).toBeUndefined();
    }
  });

  it('assign: attempt + 1, the workers, a fresh start (no retryAt, startedAt, members, error)', () => {
    const retried = toFailedAttempt(running(undefined, 0), { code: 'handler', message: 'x' }, NOW);
    const gangRun = { ...retried, parallelism: 2, members: { w1: { state: 'failed' as const } } };
    const next = toAssigned(gangRun, ['w2', 'w3'], NOW + 5);
    expect(next).toMatchObject({
      state: 'assigned',
      attempt: 2,
      workerId: 'w2',
      workers: ['w2', 'w3'],
      assignedAt: NOW + 5,
      failures: 1,
    });
    for (const field of ['retryAt', 'startedAt', 'members', 'error'] as const) {
      expect(next[field]).toBeUndefined();
    }
    expect(toAssigned(next, ['w9'], NOW + 6)).toMatchObject({ attempt: 3, workerId: 'w9' });
    expect(toAssigned(next, ['w9'], NOW + 6).workers).toBeUndefined();
  });

  it('cancel: cancelled, finished now, the reason as a cancelled error; the holders lose it', () => {
    const record = running();
    expect(holdersOf(record)).toEqual(['w1']);
    const next = toCancelled(record, 'by request', NOW);
    expect(next).toMatchObject({
      state: 'cancelled',
      finishedAt: NOW,
      error: { code: 'cancelled', message: 'by request' },
      attempt: record.attempt,
    });
    expect(holdersOf(next)).toEqual([]);
    expect(holdersOf(toPending(record))).toEqual([]);
  });
});
