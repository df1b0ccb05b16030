import type { AuditEventType } from '@app/contracts';
import type { StoredAuditEvent } from '@app/audit';
import { foldTaskEvent, type HistoryRow } from '@app/audit';
import { foldsIntoHistory } from '../src/task-history-fold';

let seq = 0;
function event(
  type: AuditEventType,
  fields: Partial<StoredAuditEvent> = {},
): StoredAuditEvent & { taskId: string } {
  seq += 1;
  return {
    seq: String(seq),
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    time: 1_000 * seq,
    type,
    actor: 'test/1/1',
    taskId: 't-1',
    jobId: 'job-1',
    ...fields,
  };
}

function fold(
  events: Array<StoredAuditEvent & { taskId: string }>,
  start?: HistoryRow,
): HistoryRow {
  let row = start;
  for (const e of events) row = foldTaskEvent(row, e);
  if (!row) throw new Error('no row');
  return row;
}

beforeEach(() => {
  seq = 0;
});

describe('foldTaskEvent', () => {
  it('follows a task that succeeds: created, assigned, started, succeeded', () => {
    const created = event('task.created', { detail: { type: 'noop', runAt: 1 } });
    const assigned = event('task.assigned', { attempt: 1, workerId: 'w-1' });
    const started = event('task.started', { attempt: 1, workerId: 'w-1', detail: { lateMs: 3 } });
    const succeeded = event('task.succeeded', {
      attempt: 1,
      workerId: 'w-1',
      detail: { durationMs: 5, state: 'succeeded' },
    });
    expect(fold([created])).toEqual({
      taskId: 't-1',
      jobId: 'job-1',
      type: 'noop',
      state: 'pending',
      attempt: 0,
      workerId: null,
      createdAt: created.time,
      startedAt: null,
      finishedAt: null,
      error: null,
      lastSeq: 1n,
    });
    expect(fold([created, assigned])).toMatchObject({
      state: 'assigned',
      attempt: 1,
      workerId: 'w-1',
    });
    expect(fold([created, assigned, started])).toMatchObject({
      state: 'running',
      startedAt: started.time,
    });
    expect(fold([created, assigned, started, succeeded])).toEqual({
      taskId: 't-1',
      jobId: 'job-1',
      type: 'noop',
      state: 'succeeded',
      attempt: 1,
      workerId: 'w-1',
      createdAt: created.time,
      startedAt: started.time,
      finishedAt: succeeded.time,
      error: null,
      lastSeq: 4n,
    });
  });

  it('a worker-reported failure with retries left reaches retrying, then a later attempt succeeds and keeps the error', () => {
    const row = fold([
      event('task.created', { detail: { type: 'http' } }),
      event('task.assigned', { attempt: 1, workerId: 'w-1' }),
      event('task.started', { attempt: 1, workerId: 'w-1' }),
      event('task.failed', {
        attempt: 1,
        workerId: 'w-1',
        detail: { code: 'handler', message: 'boom', failures: 1, state: 'retrying' },
      }),
      event('task.retry_scheduled', { attempt: 1, workerId: 'w-1', detail: { retryAt: 9 } }),
    ]);
    expect(row).toMatchObject({
      state: 'retrying',
      finishedAt: null,
      error: { code: 'handler', message: 'boom' },
    });
    const later = fold(
      [
        event('task.assigned', { attempt: 2, workerId: 'w-2' }),
        event('task.started', { attempt: 2, workerId: 'w-2' }),
        event('task.succeeded', { attempt: 2, workerId: 'w-2', detail: { state: 'succeeded' } }),
      ],
      row,
    );
    expect(later).toMatchObject({
      state: 'succeeded',
      attempt: 2,
      workerId: 'w-2',
      error: { code: 'handler', message: 'boom' },
    });
    expect(later.finishedAt).toBe(8_000); // the 8th event
  });

  it('a final failure stamps finished_at and the error', () => {
    const started = event('task.started', { attempt: 3 });
    const failed = event('task.failed', {
      attempt: 3,
      detail: { code: 'handler', message: 'still broken', state: 'failed' },
    });
    expect(fold([started, failed])).toMatchObject({
      state: 'failed',
      finishedAt: failed.time,
      error: { code: 'handler', message: 'still broken' },
    });
  });

  it('a timeout says the state reached, whoever saw it (the worker, or the leader: detail.by)', () => {
    for (const by of [{}, { by: 'leader' }]) {
      const started = event('task.started', { attempt: 1 });
      const timedOut = event('task.timed_out', {
        attempt: 1,
        detail: {
          code: 'timeout',
          message: 'no answer in 5 s',
          failures: 1,
          ...by,
          state: 'failed',
        },
      });
      expect(fold([started, timedOut])).toMatchObject({
        state: 'failed',
        finishedAt: timedOut.time,
        error: { code: 'timeout', message: 'no answer in 5 s' },
      });
      const retried = fold([
        started,
        event('task.timed_out', {
          attempt: 1,
          detail: { code: 'timeout', ...by, state: 'retrying' },
        }),
        event('task.retry_scheduled', { attempt: 1, detail: { retryAt: 9 } }),
      ]);
      expect(retried).toMatchObject({
        state: 'retrying',
        finishedAt: null,
        error: { code: 'timeout' },
      });
    }
  });

  // Rows stored before the leader's timeout spoke the same vocabulary as the
  // workers: `task.timed_out` without a state, then `task.failed` (code
  // timeout) or `task.retry_scheduled` saying what it reached.
  it('rows in the old leader dialect still fold: timed_out without a state, then failed or retry_scheduled', () => {
    const running = fold([event('task.started', { attempt: 1 })]);
    const timedOut = fold(
      [event('task.timed_out', { attempt: 1, detail: { by: 'leader' } })],
      running,
    );
    expect(timedOut).toMatchObject({ state: 'running', error: { code: 'timeout' } });
    const failed = event('task.failed', { attempt: 1, detail: { code: 'timeout' } });
    expect(fold([failed], timedOut)).toMatchObject({
      state: 'failed',
      finishedAt: failed.time,
      error: { code: 'timeout', message: 'timed out' },
    });
    expect(fold([event('task.retry_scheduled', { attempt: 1 })], timedOut)).toMatchObject({
      state: 'retrying',
      finishedAt: null,
      error: { code: 'timeout' },
    });
  });

  it('reassigned goes back to pending without a worker; cancelled ends with code cancelled', () => {
    const reassigned = fold([
      event('task.assigned', { attempt: 1, workerId: 'w-1' }),
      event('task.started', { attempt: 1, workerId: 'w-1' }),
      event('task.reassigned', { attempt: 1, workerId: 'w-1', detail: { reason: 'worker gone' } }),
    ]);
    expect(reassigned).toMatchObject({ state: 'pending', workerId: null, startedAt: null });
    const cancelled = event('task.cancelled', { detail: { from: 'pending', reason: 'by user' } });
    expect(fold([cancelled], reassigned)).toMatchObject({
      state: 'cancelled',
      finishedAt: cancelled.time,
      error: { code: 'cancelled', message: 'by user' },
    });
  });

  it('a gang stays running until the member that finishes it says so', () => {
    const assigned = event('task.assigned', {
      attempt: 1,
      workerId: 'w-1',
      detail: { workers: ['w-1', 'w-2'] },
    });
    const first = event('task.started', { attempt: 1, workerId: 'w-2', detail: { member: 1 } });
    const second = event('task.started', { attempt: 1, workerId: 'w-1', detail: { member: 0 } });
    const one = event('task.succeeded', {
      attempt: 1,
      workerId: 'w-2',
      detail: { state: 'running' },
    });
    const row = fold([assigned, first, second, one]);
    expect(row).toMatchObject({
      state: 'running',
      workerId: 'w-1',
      startedAt: first.time,
      finishedAt: null,
    });
    const last = event('task.succeeded', {
      attempt: 1,
      workerId: 'w-1',
      detail: { state: 'succeeded' },
    });
    expect(fold([last], row)).toMatchObject({ state: 'succeeded', finishedAt: last.time });
  });

  it('never folds an event at or below last_seq: idempotent, never backwards', () => {
    const events = [
      event('task.created'),
      event('task.assigned', { attempt: 1, workerId: 'w-1' }),
      event('task.succeeded', { attempt: 1, detail: { state: 'succeeded' } }),
    ];
    const row = fold(events);
    expect(fold(events, row)).toBe(row);
    expect(foldTaskEvent(row, events[1])).toBe(row);
  });

  it('task.skipped and events without a task id are not folded', () => {
    expect(foldsIntoHistory(event('task.skipped', { detail: { reason: 'misfire' } }))).toBe(false);
    expect(foldsIntoHistory({ ...event('task.created'), taskId: undefined })).toBe(false);
    expect(foldsIntoHistory(event('job.created'))).toBe(false);
    expect(foldsIntoHistory(event('task.created'))).toBe(true);
  });

  it('ignores a detail.state that is not a task state', () => {
    expect(fold([event('task.succeeded', { detail: { state: 'exploded' } })]).state).toBe(
      'succeeded',
    );
  });
});
