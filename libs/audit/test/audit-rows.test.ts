import type { AuditEvent } from '@app/contracts';
import {
  AuditUnavailableError,
  auditEventProblem,
  InvalidAuditEventError,
  isUnavailable,
} from '@app/audit';
import {
  assertAppendable,
  eventsJson,
  historyJson,
  jsonParameter,
  toStoredEvent,
} from '../src/audit-rows';
import { asUnavailable } from '../src/unavailable';

const valid: AuditEvent = {
  id: '6f1c1a52-2f5e-4a59-9a7e-0d1b2c3d4e5f',
  time: 1_763_683_200_123,
  type: 'task.created',
  actor: 'scheduler/s-1/42',
};

describe('auditEventProblem', () => {
  it('accepts a well-formed event and names what PostgreSQL would refuse', () => {
    expect(auditEventProblem(valid)).toBeUndefined();
    expect(auditEventProblem({ ...valid, id: 'e-1' })).toMatch(/UUID/);
    expect(auditEventProblem({ ...valid, time: Number.NaN })).toMatch(/time/);
    expect(auditEventProblem({ ...valid, attempt: 1.5 })).toMatch(/attempt/);
    expect(auditEventProblem({ ...valid, actor: undefined as unknown as string })).toMatch(/actor/);
    expect(
      auditEventProblem({ ...valid, detail: 'text' as unknown as Record<string, unknown> }),
    ).toMatch(/detail/);
  });

  it('assertAppendable throws InvalidAuditEventError naming the position and id', () => {
    const events = [...Array.from({ length: 1_500 }, () => valid), { ...valid, id: 'nope' }];
    expect(() => assertAppendable(events)).toThrow(InvalidAuditEventError);
    try {
      assertAppendable(events);
    } catch (error) {
      expect(error).toMatchObject({ index: 1_500, eventId: 'nope' });
    }
  });
});

describe('row conversions', () => {
  it('replaces NUL, which PostgreSQL refuses in text and jsonb', () => {
    expect(jsonParameter({ message: 'a\u0000b' })).toBe('{"message":"a\uFFFDb"}');
    expect(jsonParameter(undefined)).toBeNull();
    const [event] = JSON.parse(
      eventsJson([{ ...valid, actor: 'x\u0000', detail: { message: 'a\u0000b', n: 1 } }]),
    ) as Array<Record<string, unknown>>;
    expect(event).toMatchObject({ c: 'x\uFFFD', d: { message: 'a\uFFFDb', n: 1 } });
    const [row] = JSON.parse(
      historyJson([
        {
          taskId: 't',
          jobId: null,
          type: 'x\u0000',
          state: 'failed',
          attempt: 1,
          workerId: null,
          createdAt: 1,
          startedAt: null,
          finishedAt: 2,
          error: { code: 'c', message: 'm\u0000' },
          lastSeq: 9n,
        },
      ]),
    ) as Array<Record<string, unknown>>;
    expect(row).toMatchObject({ kind: 'x\uFFFD', error: { message: 'm\uFFFD' }, last_seq: '9' });
  });

  it('leaves text without NUL as it is, backslashes included', () => {
    const [event] = JSON.parse(
      eventsJson([{ ...valid, detail: { path: 'C:\\u0000\\x', quote: '"' } }]),
    ) as Array<Record<string, unknown>>;
    expect(event.d).toEqual({ path: 'C:\\u0000\\x', quote: '"' });
    expect(event).toMatchObject({
      i: valid.id,
      t: new Date(valid.time).toISOString(),
      y: valid.type,
      j: null,
      a: null,
    });
  });

  it('reads a row back into the appended shape, optional fields left out', () => {
    expect(
      toStoredEvent({
        seq: '7',
        event_id: valid.id,
        time: new Date(valid.time),
        type: valid.type,
        job_id: null,
        task_id: 't-1',
        worker_id: null,
        attempt: null,
        actor: valid.actor,
        fencing_token: null,
        detail: null,
      }),
    ).toEqual({ ...valid, seq: '7', taskId: 't-1' });
  });
});

describe('isUnavailable', () => {
  it('tells connection failures from other errors', () => {
    expect(
      isUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(
      isUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' })),
    ).toBe(true);
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable({ message: 'x', driverError: { code: '08006' } })).toBe(true);
    expect(isUnavailable(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    const wrapped = asUnavailable(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    expect(wrapped).toBeInstanceOf(AuditUnavailableError);
    expect((wrapped as Error).message).toMatch(/PostgreSQL is unavailable: connect ECONNREFUSED/);
  });
});
