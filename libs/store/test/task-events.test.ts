import type { TaskRecord } from '@app/contracts';
import { AuditWriter, attemptFailedEvents, newTaskRecord, toFailedAttempt } from '@app/store';

const audit = new AuditWriter('test/1/1', () => 7);
const make = audit.event.bind(audit);

function running(maxAttempts: number): TaskRecord {
  return {
    ...newTaskRecord(
      { type: 'x', payload: {}, jobId: 'j', retry: { maxAttempts, backoffMs: 10 } },
      0,
    ),
    state: 'running',
    attempt: 1,
    workerId: 'w',
  };
}

describe('the audit vocabulary of a failed attempt', () => {
  const error = { code: 'timeout', message: 'm'.repeat(500) };

  it('retries left: the failure with the state reached, then task.retry_scheduled', () => {
    const next = toFailedAttempt(running(2), error, 100);
    const events = attemptFailedEvents(make, next, { error, timedOut: true }, { by: 'leader' });
    expect(events.map((e) => [e.type, e.taskId, e.jobId, e.workerId, e.attempt])).toEqual([
      ['task.timed_out', next.id, 'j', 'w', 1],
      ['task.retry_scheduled', next.id, 'j', 'w', 1],
    ]);
    expect(events[0].detail).toEqual({
      code: 'timeout',
      message: `${'m'.repeat(199)}…`,
      failures: 1,
      by: 'leader',
      state: 'retrying',
    });
    expect(events[1].detail).toEqual({ retryAt: 110, failures: 1, maxAttempts: 2 });
  });

  it('the last attempt: one event, whoever reports it, saying failed', () => {
    const next = toFailedAttempt(running(1), error, 100);
    for (const timedOut of [true, false]) {
      const events = attemptFailedEvents(make, next, { error, timedOut }, {}, 'member-2');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: timedOut ? 'task.timed_out' : 'task.failed',
        workerId: 'member-2',
        detail: { state: 'failed', failures: 1 },
      });
    }
  });
});
