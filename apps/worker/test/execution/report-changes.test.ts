import { AuditWriter, newTaskRecord } from '@app/store';
import type { TaskRecord } from '@app/contracts';
import type { HeldTask } from '../../src/execution/held-task';
import { ReportChanges } from '../../src/execution/report-changes';

const audit = new AuditWriter('worker/w1/1', () => 42);
const changes = new ReportChanges(audit, 'w1', () => 1_000);

function held(maxAttempts: number, gang = false): HeldTask {
  const record: TaskRecord = {
    ...newTaskRecord(
      { type: 'noop', payload: {}, jobId: 'job-1', retry: { maxAttempts, backoffMs: 100 } },
      0,
    ),
    state: 'assigned',
    attempt: 1,
    workerId: 'w1',
    runAt: 400,
    ...(gang ? { parallelism: 2, workers: ['w1', 'w2'] } : {}),
  };
  return {
    id: record.id,
    attempt: 1,
    type: 'noop',
    jobId: 'job-1',
    gang: gang ? { size: 2, index: 0, workers: ['w1', 'w2'] } : undefined,
    record,
    version: 0,
    startedAt: 500,
    start: undefined,
    dropped: false,
  };
}

describe('report changes', () => {
  it('a start folded into the finish: one record, both events, the assignment deleted', () => {
    const task = held(1);
    const change = ReportChanges.fold(changes.started(task), changes.succeeded(task, { ok: true }));
    const next = change.apply(task.record);
    expect(next).toMatchObject({
      state: 'succeeded',
      startedAt: 500,
      finishedAt: 1_000,
      result: { ok: true },
    });
    const events = change.events(next);
    expect(events.map((e) => e.type)).toEqual(['task.started', 'task.succeeded']);
    expect(events[0]).toMatchObject({
      taskId: task.id,
      jobId: 'job-1',
      workerId: 'w1',
      attempt: 1,
      actor: 'worker/w1/1',
      detail: { lateMs: 100 },
    });
    expect(events[1].detail).toEqual({ durationMs: 500, state: 'succeeded' });
    expect(change.release).toBe('own');
  });

  it('a failure with attempts left: task.failed then task.retry_scheduled', () => {
    const task = held(2);
    const change = changes.failed(task, {
      error: { code: 'handler', message: 'boom' },
      timedOut: false,
      final: false,
    });
    const next = change.apply(task.record);
    expect(change.events(next).map((e) => [e.type, e.detail])).toEqual([
      [
        'task.failed',
        { code: 'handler', message: 'boom', durationMs: 500, failures: 1, state: 'retrying' },
      ],
      ['task.retry_scheduled', { retryAt: 1_100, failures: 1, maxAttempts: 2 }],
    ]);
  });

  it('a timeout on the last attempt: task.timed_out alone; a gang failure releases every member', () => {
    const task = held(1, true);
    const change = changes.failed(task, {
      error: { code: 'timeout', message: 'timed out after 5 ms' },
      timedOut: true,
      final: false,
    });
    const next = change.apply(task.record);
    expect(next.state).toBe('failed');
    expect(change.events(next).map((e) => e.type)).toEqual(['task.timed_out']);
    expect(change.release).toBe('gang');
  });

  it('a hand back: pending, task.reassigned (handed back), a queue notification', () => {
    const task = held(1);
    const change = changes.handedBack(task);
    const next = change.apply(task.record);
    expect(next.state).toBe('pending');
    expect(change.notify).toBe(true);
    expect(change.events(next)[0]).toMatchObject({
      type: 'task.reassigned',
      detail: { reason: 'handed back', from: 'w1', state: 'assigned' },
    });
  });
});
