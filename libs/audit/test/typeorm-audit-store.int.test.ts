import type { AuditEvent, TaskRecord } from '@app/contracts';
import {
  InvalidAuditEventError,
  InvalidAuditQueryError,
  type AuditDatabase,
  type StoredAuditEvent,
  type TypeOrmAuditStore,
} from '@app/audit';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { auditEvent, openStore, succeedingTask } from './support/audit-fixtures';

/**
 * TypeOrmAuditStore against a fresh database on the shared PostgreSQL server:
 * idempotent appends, the task_history fold, queries and keyset pages (also
 * while rows keep arriving).
 */

let testDatabase: TestDatabase;
let database: AuditDatabase;
let store: TypeOrmAuditStore;

beforeAll(async () => {
  testDatabase = await createTestDatabase('zk_audit_store');
  ({ database, store } = await openStore(testDatabase.url));
});

afterAll(async () => {
  await database?.close();
  await testDatabase?.drop();
});

async function truncate(): Promise<void> {
  await database.dataSource.query('TRUNCATE audit_events, task_history RESTART IDENTITY');
}

async function allRows(): Promise<Array<{ seq: string; event_id: string }>> {
  return (await database.dataSource.query(
    'SELECT seq, event_id FROM audit_events ORDER BY seq',
  )) as Array<{ seq: string; event_id: string }>;
}

function withoutSeq(events: StoredAuditEvent[]): AuditEvent[] {
  return events.map(({ seq: _seq, ...event }) => event);
}

describe('append', () => {
  beforeEach(truncate);

  it('inserts each event once: a repeated batch, an overlapping one, a duplicate within a batch', async () => {
    const events = succeedingTask('t-1', 'job-1', 'w-1');
    expect(await store.append(events)).toBe(4);
    expect(await store.append(events)).toBe(0);

    const more = succeedingTask('t-2', 'job-1', 'w-1');
    expect(await store.append([...events.slice(2), ...more.slice(0, 2)])).toBe(2);
    expect(await store.append([more[2], more[2], more[3], more[0]])).toBe(2);

    const page = await store.query({ limit: 100 });
    expect(withoutSeq(page.events)).toEqual([...events, ...more]);
    expect(page.nextCursor).toBeUndefined();
    const seqs = page.events.map((event) => BigInt(event.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('round-trips every field and the JSON detail; NUL becomes U+FFFD', async () => {
    const event = auditEvent('task.failed', {
      jobId: 'job-ü',
      taskId: 'job-ü@1763683200000',
      workerId: 'worker-1',
      attempt: 2,
      fencingToken: '7:/election/scheduler/_c_x-n_0000000007',
      detail: {
        code: 'handler',
        nested: { list: [1, 'two', null, true] },
        emoji: '✓',
        nul: 'a\u0000b',
      },
    });
    await store.append([event]);
    const [stored] = (await store.query({ limit: 1 })).events;
    expect(stored).toEqual({
      ...event,
      seq: stored.seq,
      detail: { ...event.detail, nul: 'a\uFFFDb' },
    });
    expect(typeof stored.seq).toBe('string');
  });

  it('appends a batch larger than one INSERT chunk in one transaction, in order', async () => {
    const events = Array.from({ length: 2_500 }, (_, i) =>
      auditEvent('task.created', { taskId: `bulk-${i}`, detail: { type: 'noop' } }),
    );
    expect(await store.append(events)).toBe(2_500);
    const rows = await allRows();
    expect(rows.map((row) => row.event_id)).toEqual(events.map((event) => event.id));
    expect((await store.listTaskHistory({ limit: 1_000 })).tasks).toHaveLength(1_000);
  });

  it('refuses an event PostgreSQL could not store before writing anything, naming its place in the batch', async () => {
    const good = auditEvent('job.created', { jobId: 'job-1' });
    await expect(store.append([good, { ...good, id: 'not-a-uuid' }])).rejects.toBeInstanceOf(
      InvalidAuditEventError,
    );
    // Past the first INSERT chunk (1,000 events): the drain sets aside the node holding that place.
    const many = Array.from({ length: 1_500 }, () => auditEvent('job.created'));
    await expect(store.append([...many, { ...good, id: 'not-a-uuid' }])).rejects.toMatchObject({
      index: 1_500,
      eventId: 'not-a-uuid',
    });
    expect(await allRows()).toEqual([]);
  });
});

describe('task_history', () => {
  beforeEach(truncate);

  it('follows each task event type to the right final state, across batches', async () => {
    const on = (taskId: string, attempt: number, workerId = 'w-1') => ({
      taskId,
      jobId: 'job-h',
      workerId,
      attempt,
    });
    const created = (taskId: string) =>
      auditEvent('task.created', { taskId, jobId: 'job-h', detail: { type: 'http' } });
    const batches: AuditEvent[][] = [
      [
        created('ok'),
        created('retried'),
        created('timed-out'),
        created('cancelled'),
        created('moved'),
        created('leader-timeout'),
      ],
      [
        auditEvent('task.assigned', on('ok', 1)),
        auditEvent('task.assigned', on('retried', 1)),
        auditEvent('task.assigned', on('timed-out', 1)),
        auditEvent('task.assigned', on('moved', 1)),
        auditEvent('task.assigned', on('leader-timeout', 1)),
        auditEvent('task.started', on('ok', 1)),
        auditEvent('task.started', on('retried', 1)),
        auditEvent('task.started', on('timed-out', 1)),
        auditEvent('task.started', on('moved', 1)),
        auditEvent('task.started', on('leader-timeout', 1)),
      ],
      [
        auditEvent('task.succeeded', { ...on('ok', 1), detail: { state: 'succeeded' } }),
        auditEvent('task.failed', {
          ...on('retried', 1),
          detail: { code: 'handler', message: 'boom', state: 'retrying' },
        }),
        auditEvent('task.retry_scheduled', { ...on('retried', 1), detail: { retryAt: 1 } }),
        auditEvent('task.timed_out', {
          ...on('timed-out', 1),
          detail: { code: 'timeout', message: 'no report in 1 s', state: 'failed' },
        }),
        auditEvent('task.cancelled', {
          taskId: 'cancelled',
          jobId: 'job-h',
          attempt: 0,
          detail: { from: 'pending', reason: 'by user' },
        }),
        auditEvent('task.reassigned', { ...on('moved', 1), detail: { reason: 'worker gone' } }),
        auditEvent('task.timed_out', { ...on('leader-timeout', 1), detail: { by: 'leader' } }),
        auditEvent('task.failed', { ...on('leader-timeout', 1), detail: { code: 'timeout' } }),
        auditEvent('task.skipped', {
          taskId: 'job-h@1',
          jobId: 'job-h',
          detail: { reason: 'previous still running' },
        }),
      ],
    ];
    for (const batch of batches) await store.append(batch);

    const byId = async (id: string) => store.taskHistory(id);
    expect(await byId('ok')).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      workerId: 'w-1',
      jobId: 'job-h',
      type: 'http',
    });
    expect(await byId('retried')).toMatchObject({
      state: 'retrying',
      error: { code: 'handler', message: 'boom' },
    });
    expect((await byId('retried'))?.finishedAt).toBeUndefined();
    expect(await byId('timed-out')).toMatchObject({
      state: 'failed',
      error: { code: 'timeout', message: 'no report in 1 s' },
    });
    expect(await byId('cancelled')).toMatchObject({
      state: 'cancelled',
      error: { code: 'cancelled', message: 'by user' },
    });
    const moved = await byId('moved');
    expect(moved).toMatchObject({ state: 'pending', attempt: 1 });
    expect(moved?.workerId).toBeUndefined();
    expect(await byId('leader-timeout')).toMatchObject({
      state: 'failed',
      error: { code: 'timeout', message: 'timed out' },
    });
    expect(await byId('job-h@1')).toBeUndefined();

    const times = (await byId('ok'))!;
    const okEvents = (await store.query({ taskId: 'ok', limit: 10 })).events;
    expect(times.createdAt).toBe(okEvents[0].time);
    expect(times.startedAt).toBe(okEvents[2].time);
    expect(times.finishedAt).toBe(okEvents[3].time);

    // Appending every batch again changes no row, not even updated_at.
    const before = await database.dataSource.query('SELECT * FROM task_history ORDER BY task_id');
    for (const batch of batches) expect(await store.append(batch)).toBe(0);
    expect(await database.dataSource.query('SELECT * FROM task_history ORDER BY task_id')).toEqual(
      before,
    );
  });

  it('reads its rows back to the ms across batches, from year 1 to 9999', async () => {
    const times = {
      first: new Date('0001-01-01T00:00:00.001Z').getTime(),
      last: Date.UTC(9999, 11, 31, 23, 59, 59, 998),
      now: 1_796_680_000_999,
    };
    const ids = Object.keys(times) as Array<keyof typeof times>;
    await store.append(
      ids.map((id) => auditEvent('task.created', { taskId: id, time: times[id] })),
    );
    await store.append(
      ids.flatMap((id) => [
        auditEvent('task.assigned', { taskId: id, workerId: 'w-1', attempt: 1 }),
        auditEvent('task.started', {
          taskId: id,
          workerId: 'w-1',
          attempt: 1,
          time: times[id] + 1,
        }),
      ]),
    );
    for (const id of ids) {
      expect(await store.taskHistory(id)).toMatchObject({
        state: 'running',
        createdAt: times[id],
        startedAt: times[id] + 1,
      });
    }
  });

  it('saveFinalRecord stores the record and the row matches it', async () => {
    await store.append(succeedingTask('final-1', 'job-f', 'w-9'));
    const record: TaskRecord = {
      id: 'final-1',
      jobId: 'job-f',
      type: 'noop',
      payload: { a: 1 },
      state: 'succeeded',
      attempt: 2,
      failures: 1,
      retry: { maxAttempts: 3, backoffMs: 100 },
      parallelism: 1,
      runAt: 1_763_683_100_000,
      workerId: 'w-9',
      createdAt: 1_763_683_100_000,
      assignedAt: 1_763_683_100_010,
      startedAt: 1_763_683_100_020,
      finishedAt: 1_763_683_100_500,
      result: { compressed: 3 },
    };
    await store.saveFinalRecord(record);
    const history = await store.taskHistory('final-1');
    expect(history).toMatchObject({
      taskId: 'final-1',
      jobId: 'job-f',
      type: 'noop',
      state: 'succeeded',
      attempt: 2,
      workerId: 'w-9',
      createdAt: record.createdAt,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      record,
    });

    // A task whose events never reached PostgreSQL gets its row from the record alone.
    const cancelled: TaskRecord = {
      ...record,
      id: 'final-2',
      state: 'cancelled',
      error: { code: 'cancelled', message: 'by user' },
    };
    delete cancelled.result;
    await store.saveFinalRecord(cancelled);
    expect(await store.taskHistory('final-2')).toMatchObject({
      state: 'cancelled',
      error: { code: 'cancelled', message: 'by user' },
      record: cancelled,
    });
  });

  it('listTaskHistory pages by task id, filtered by job and state', async () => {
    for (let i = 0; i < 25; i++) {
      const job = i % 2 === 0 ? 'job-even' : 'job-odd';
      const events = succeedingTask(`task-${String(i).padStart(2, '0')}`, job, 'w-1');
      await store.append(i % 5 === 0 ? events.slice(0, 2) : events);
    }
    const walk = async (filter: { jobId?: string; state?: 'succeeded' | 'assigned' }) => {
      const ids: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await store.listTaskHistory({ ...filter, after, limit: 4 });
        ids.push(...page.tasks.map((task) => task.taskId));
        after = page.next;
        pages += 1;
      } while (after !== undefined);
      return { ids, pages };
    };
    const all = await walk({});
    expect(all.ids).toEqual(
      Array.from({ length: 25 }, (_, i) => `task-${String(i).padStart(2, '0')}`),
    );
    expect(all.pages).toBe(7);
    const even = await walk({ jobId: 'job-even' });
    expect(even.ids).toHaveLength(13);
    const assigned = await walk({ state: 'assigned' });
    expect(assigned.ids).toEqual(['task-00', 'task-05', 'task-10', 'task-15', 'task-20']);
    const evenSucceeded = await walk({ jobId: 'job-even', state: 'succeeded' });
    expect(evenSucceeded.ids).toEqual(even.ids.filter((id) => !assigned.ids.includes(id)));
  });
});

describe('query', () => {
  let events: AuditEvent[];

  beforeAll(async () => {
    await truncate();
    events = [];
    for (let i = 0; i < 30; i++) {
      events.push(...succeedingTask(`q-${i}`, `job-${i % 3}`, `w-${i % 4}`));
    }
    events.push(auditEvent('leader.elected', { fencingToken: '1:/c' }));
    await store.append(events);
  });

  const ids = (list: Array<{ id: string }>) => list.map((event) => event.id);

  it('filters by task, job, worker and type, AND-ed', async () => {
    expect(ids((await store.query({ taskId: 'q-7', limit: 100 })).events)).toEqual(
      ids(events.filter((e) => e.taskId === 'q-7')),
    );
    expect(ids((await store.query({ jobId: 'job-1', limit: 1000 })).events)).toEqual(
      ids(events.filter((e) => e.jobId === 'job-1')),
    );
    expect(ids((await store.query({ workerId: 'w-2', limit: 1000 })).events)).toEqual(
      ids(events.filter((e) => e.workerId === 'w-2')),
    );
    expect(ids((await store.query({ type: 'leader.elected', limit: 10 })).events)).toEqual(
      ids(events.slice(-1)),
    );
    const both = await store.query({
      jobId: 'job-2',
      workerId: 'w-1',
      type: 'task.started',
      limit: 100,
    });
    expect(ids(both.events)).toEqual(
      ids(
        events.filter(
          (e) => e.jobId === 'job-2' && e.workerId === 'w-1' && e.type === 'task.started',
        ),
      ),
    );
    expect(both.events.length).toBeGreaterThan(0);
    expect((await store.query({ taskId: 'nope', limit: 10 })).events).toEqual([]);
  });

  it('since is inclusive, until exclusive', async () => {
    const since = events[10].time;
    const until = events[20].time;
    const page = await store.query({ since, until, limit: 1000 });
    expect(ids(page.events)).toEqual(ids(events.slice(10, 20)));
    expect(ids((await store.query({ since: events.at(-1)!.time, limit: 5 })).events)).toEqual(
      ids(events.slice(-1)),
    );
    expect((await store.query({ until: events[0].time, limit: 5 })).events).toEqual([]);
  });

  it('limit bounds the page; nextCursor only when more match', async () => {
    const first = await store.query({ jobId: 'job-0', limit: 5 });
    expect(first.events).toHaveLength(5);
    expect(first.nextCursor).toBe(first.events[4].seq);
    const exact = await store.query({ taskId: 'q-3', limit: 4 });
    expect(exact.events).toHaveLength(4);
    expect(exact.nextCursor).toBeUndefined();
    expect((await store.query({ limit: 1000 })).events).toHaveLength(events.length);
    for (const limit of [0, 1001, 2.5, Number.NaN]) {
      await expect(store.query({ limit })).rejects.toBeInstanceOf(InvalidAuditQueryError);
    }
    for (const after of ['-1', 'abc', '99999999999999999999', '']) {
      await expect(store.query({ after, limit: 5 })).rejects.toThrow(/^after:/);
    }
    await expect(store.query({ since: Number.POSITIVE_INFINITY, limit: 5 })).rejects.toThrow(
      /^since:/,
    );
  });

  it('walks a filter page by page with the cursor', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await store.query({ workerId: 'w-3', after, limit: 7 });
      seen.push(...ids(page.events));
      after = page.nextCursor;
    } while (after !== undefined);
    expect(seen).toEqual(ids(events.filter((e) => e.workerId === 'w-3')));
  });

  it('walks a time window page by page (the window-first statement), and a window with a filter', async () => {
    const since = events[13].time;
    const until = events[101].time;
    const walk = async (query: { since: number; until: number; type?: 'task.started' }) => {
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await store.query({ ...query, after, limit: 9 });
        seen.push(...ids(page.events));
        after = page.nextCursor;
      } while (after !== undefined);
      return seen;
    };
    expect(await walk({ since, until })).toEqual(ids(events.slice(13, 101)));
    expect(await walk({ since, until, type: 'task.started' })).toEqual(
      ids(events.slice(13, 101).filter((e) => e.type === 'task.started')),
    );
  });

  it('eventsAfter and lastSeq follow the insertion order', async () => {
    const last = await store.lastSeq();
    const all = (await store.query({ limit: 1000 })).events;
    expect(last).toBe(all.at(-1)!.seq);
    expect(ids(await store.eventsAfter('0', 3))).toEqual(ids(events.slice(0, 3)));
    expect(ids(await store.eventsAfter(all[99].seq, 2))).toEqual(ids(events.slice(100, 102)));
    expect(await store.eventsAfter(last, 10)).toEqual([]);
  });
});

describe('keyset pagination while rows keep arriving', () => {
  beforeEach(truncate);

  it('returns every row exactly once, in order, with three appenders running', async () => {
    for (let i = 0; i < 10; i++) {
      await store.append(
        Array.from({ length: 50 }, () => auditEvent('worker.joined', { workerId: 'seed' })),
      );
    }
    const target = 1_500;
    let appended = 0;
    let pagesWhileAppending = 0;
    const appender = async (name: string): Promise<void> => {
      while (appended < target) {
        const batch = Array.from({ length: 1 + (appended % 17) }, (_, i) =>
          auditEvent('task.created', { taskId: `${name}-${appended}-${i}` }),
        );
        appended += batch.length;
        await store.append(batch);
      }
    };
    let appending = true;
    const appenders = Promise.all(['a', 'b', 'c'].map(appender)).finally(() => (appending = false));

    // Walk while they write, then on to the end once they are done.
    const seen: StoredAuditEvent[] = [];
    let after: string | undefined;
    for (;;) {
      const stillAppending = appending;
      const page = await store.query({ after, limit: 20 });
      seen.push(...page.events);
      if (stillAppending) pagesWhileAppending += 1;
      if (page.events.length > 0) after = page.events.at(-1)!.seq;
      if (page.nextCursor === undefined && !stillAppending) break;
    }
    await appenders;

    const table = await allRows();
    expect(pagesWhileAppending).toBeGreaterThan(10);
    expect(seen.map((event) => event.seq)).toEqual(table.map((row) => row.seq));
    expect(seen.map((event) => event.id)).toEqual(table.map((row) => row.event_id));
    expect(new Set(seen.map((event) => event.id)).size).toBe(seen.length);
  });
});
