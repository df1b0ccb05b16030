import { newTaskRecord } from '@app/store';
import type { TaskRecord } from '@app/contracts';
import { toFailedAttempt, toPending, toStarted, toSucceeded } from '../src/task-transitions';

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
});
