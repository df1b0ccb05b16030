import type { TaskRecord } from '@app/contracts';
import { newTaskRecord } from '@app/store';
import { admit, parseAssignment, parseAssignmentNote } from '../../src/execution/admission';

function record(fields: Partial<TaskRecord>): TaskRecord {
  return {
    ...newTaskRecord({ type: 'noop', payload: {} }, 0),
    state: 'assigned',
    attempt: 2,
    workerId: 'me',
    ...fields,
  };
}

describe('admission (protocol step 3)', () => {
  it('runs an assigned task of this attempt given to this worker', () => {
    expect(admit(record({}), { attempt: 2 }, 'me')).toEqual({ ok: true });
  });

  it.each([
    [{ state: 'running' as const }, /task is running, not assigned/],
    [{ state: 'cancelled' as const }, /task is cancelled/],
    [{ attempt: 3 }, /assignment is for attempt 2, the task is at attempt 3/],
    [{ workerId: 'other' }, /belongs to worker other/],
  ])('ignores %j', (fields, reason) => {
    const verdict = admit(record(fields), { attempt: 2 }, 'me');
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toMatch(reason);
  });

  it('a gang member: its place in workers; joins a running gang unless it took part already', () => {
    const gang = record({ parallelism: 3, workers: ['x', 'me', 'y'], workerId: 'x' });
    expect(admit(gang, { attempt: 2 }, 'me')).toEqual({
      ok: true,
      gang: { size: 3, index: 1, workers: ['x', 'me', 'y'] },
    });
    const started = {
      ...gang,
      state: 'running' as const,
      members: { x: { state: 'running' as const } },
    };
    expect(admit(started, { attempt: 2 }, 'me').ok).toBe(true);
    const mine = { ...started, members: { me: { state: 'running' as const } } };
    expect(admit(mine, { attempt: 2 }, 'me')).toEqual({
      ok: false,
      reason: 'this worker already took part in attempt 2 (running)',
    });
    expect(admit(gang, { attempt: 2 }, 'z').ok).toBe(false);
    expect(admit({ ...gang, workers: ['me', 'me', 'y'] }, { attempt: 2 }, 'me').ok).toBe(false);
  });

  it('reads the attempt from the assignment node, and the record it carries when consistent', () => {
    expect(parseAssignment(Buffer.from('{"attempt":4}'))).toEqual({ attempt: 4 });
    expect(parseAssignment(Buffer.from('{"attempt":"4"}'))).toBeUndefined();
    expect(parseAssignment(Buffer.from('nope'))).toBeUndefined();
    const record = { id: 't', attempt: 4, state: 'assigned' };
    const carried = JSON.stringify({ attempt: 4, taskVersion: 7, record });
    expect(parseAssignment(Buffer.from(carried))).toEqual({ attempt: 4, taskVersion: 7, record });
    // A record of another attempt, or no version, is not trusted: the worker reads the task.
    const mismatched = JSON.stringify({ attempt: 5, taskVersion: 7, record });
    expect(parseAssignment(Buffer.from(mismatched))).toEqual({ attempt: 5 });
    expect(parseAssignment(Buffer.from(JSON.stringify({ attempt: 4, record })))).toEqual({
      attempt: 4,
    });
  });
  it("takes from a leader's note only the assignments that carry a consistent record", () => {
    const record = { id: 't', attempt: 4, state: 'assigned' };
    const good = { attempt: 4, taskVersion: 7, record };
    const note = {
      assignments: [
        good,
        { attempt: 5, taskVersion: 7, record }, // another attempt's record
        { attempt: 4, record }, // no version
        { attempt: 4, taskVersion: 7, record: { ...record, id: 3 } }, // no id
        null,
      ],
    };
    expect(parseAssignmentNote(Buffer.from(JSON.stringify(note)))).toEqual([good]);
    expect(parseAssignmentNote(Buffer.from('{"assignments":{}}'))).toEqual([]);
    expect(parseAssignmentNote(Buffer.from('nope'))).toEqual([]);
    expect(parseAssignmentNote(Buffer.from('null'))).toEqual([]);
  });
});
