import type { JobRecord } from '@app/contracts';
import { jobChanges } from '../src/job-changes';

const base: JobRecord = {
  id: 'j1',
  name: 'nightly',
  type: 'noop',
  payload: { a: 1 },
  schedule: '0 3 * * *',
  timezone: 'UTC',
  retry: { maxAttempts: 1, backoffMs: 1000 },
  concurrency: 'allow',
  misfire: 'fire_once',
  parallelism: 1,
  paused: false,
  createdAt: 1,
  updatedAt: 1,
} as JobRecord;

describe('jobChanges', () => {
  it('lists each changed field with its values, ignoring bookkeeping', () => {
    const after = {
      ...base,
      schedule: '0 4 * * *',
      timezone: 'Europe/Paris',
      retry: { maxAttempts: 3, backoffMs: 1000 },
      timeoutMs: 5000,
      updatedAt: 2,
    } as JobRecord;
    expect(jobChanges(base, after)).toEqual({
      schedule: { from: '0 3 * * *', to: '0 4 * * *' },
      timezone: { from: 'UTC', to: 'Europe/Paris' },
      retry: { from: { maxAttempts: 1, backoffMs: 1000 }, to: { maxAttempts: 3, backoffMs: 1000 } },
      timeoutMs: { to: 5000 },
    });
  });

  it('says a removed field has no `to`, and only the size of a large value', () => {
    const { schedule: _schedule, ...rest } = base;
    const after = { ...rest, runAt: 99, payload: { blob: 'x'.repeat(500) } } as JobRecord;
    expect(jobChanges(base, after)).toEqual({
      schedule: { from: '0 3 * * *' },
      runAt: { to: 99 },
      payload: { from: { a: 1 }, to: '<511 characters>' },
    });
  });

  it('is empty when nothing but bookkeeping changed', () => {
    expect(jobChanges(base, { ...base, updatedAt: 5 })).toEqual({});
  });
});
