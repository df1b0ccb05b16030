import type { TaskRecord } from '@app/contracts';
import {
  allSucceeded,
  holdersOf,
  memberFailedRecord,
  memberStartedRecord,
  memberSucceededRecord,
  newTaskRecord,
} from '@app/store';

const GANG = ['a', 'b', 'c'];

function assigned(maxAttempts = 2): TaskRecord {
  return {
    ...newTaskRecord(
      { type: 'x', payload: {}, parallelism: 3, retry: { maxAttempts, backoffMs: 10 } },
      0,
    ),
    state: 'assigned',
    attempt: 1,
    workerId: 'a',
    workers: GANG,
  };
}

describe('gang transitions', () => {
  it('the first member to start moves the task to running; each adds itself; startedAt is the first', () => {
    const first = memberStartedRecord(assigned(), 'b', 100);
    expect(first).toMatchObject({
      state: 'running',
      startedAt: 100,
      members: { b: { state: 'running' } },
    });
    const second = memberStartedRecord(first, 'a', 120);
    expect(second.startedAt).toBe(100);
    expect(second.members).toEqual({ b: { state: 'running' }, a: { state: 'running' } });
  });

  it('the task succeeds with the write that makes every member succeeded', () => {
    let record = GANG.reduce((r, w) => memberStartedRecord(r, w, 1), assigned());
    record = memberSucceededRecord(record, 'a', { n: 0 }, 10);
    record = memberSucceededRecord(record, 'c', undefined, 11);
    expect(record.state).toBe('running');
    expect(allSucceeded(record)).toBe(false);
    expect(holdersOf(record)).toEqual(['b']);
    record = memberSucceededRecord(record, 'b', { n: 1 }, 12);
    expect(record).toMatchObject({ state: 'succeeded', finishedAt: 12 });
    expect(record.members).toEqual({
      a: { state: 'succeeded', result: { n: 0 } },
      b: { state: 'succeeded', result: { n: 1 } },
      c: { state: 'succeeded' },
    });
    expect(holdersOf(record)).toEqual([]);
  });

  it('a member failing: retrying keeps only its own entry (successes do not carry to the next attempt)', () => {
    let record = GANG.reduce((r, w) => memberStartedRecord(r, w, 1), assigned());
    record = memberSucceededRecord(record, 'a', undefined, 5);
    expect(holdersOf(record)).toEqual(['b', 'c']);
    const failed = memberFailedRecord(record, 'b', { code: 'handler', message: 'no' }, 9);
    expect(failed).toMatchObject({ state: 'retrying', failures: 1, retryAt: 19 });
    expect(failed.members).toEqual({
      b: { state: 'failed', error: { code: 'handler', message: 'no' } },
    });
  });

  it('a member failing the last attempt: failed, every entry kept', () => {
    const record = GANG.reduce((r, w) => memberStartedRecord(r, w, 1), assigned(1));
    const failed = memberFailedRecord(record, 'c', { code: 'timeout', message: 't' }, 9);
    expect(failed).toMatchObject({ state: 'failed', finishedAt: 9 });
    expect(Object.keys(failed.members ?? {}).sort()).toEqual(GANG);
  });
});
