/**
 * What a long audit history does to the drain's appends, by kind of id: the
 * product's time-ordered ids (`newId`, UUID version 7) against random ones
 * (version 4, what tasks and events carried before).
 *
 *   npm run bench:history -- --history 3000000 --rounds 3
 *
 * Fills a fresh database (the shared server, 127.0.0.1:5432) with
 * `--history` task events (4 per task, random ids, as an older cluster left
 * them) and a history row per task, checkpoints, then appends batches the
 * size of the drain's under load (`--batch` events, 4 per task) through
 * TypeOrmAuditStore.append, the drain's own call: `--batches` per round,
 * random and time-ordered rounds alternating. Per round: µs per event (the
 * append's wall time: one backend, data in memory) and bytes of WAL per
 * event (pg_current_wal_lsn), where full-page images after the checkpoint
 * show how many pages each kind of id touches.
 *
 * Prints a table, then ONE JSON line `{"bench":"history-growth",...}` last.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { AuditDatabase, TypeOrmAuditStore } from '@app/audit';
import { createTestDatabase } from '@app/audit/testing';
import { newId, type AuditEvent } from '@app/contracts';
import { parseOptions } from './support/cli-options';
import { runMain } from './support/run-main';
import { distribution, round } from './support/stats';
import { table } from './support/table';

const TASK_EVENTS = ['task.created', 'task.assigned', 'task.started', 'task.succeeded'] as const;
const FILL_TASKS_PER_STATEMENT = 50_000;

type IdKind = 'random' | 'time-ordered';

interface Round {
  ids: IdKind;
  events: number;
  microsPerEvent: number;
  walBytesPerEvent: number;
}

function taskEvents(makeId: () => string, tasks: number): AuditEvent[] {
  const time = Date.now();
  const events: AuditEvent[] = [];
  for (let t = 0; t < tasks; t++) {
    const taskId = makeId();
    for (const type of TASK_EVENTS) {
      events.push({
        id: makeId(),
        time,
        type,
        actor: 'worker/worker-1/1234',
        taskId,
        workerId: 'worker-1',
        attempt: 1,
        ...(type === 'task.succeeded' ? { detail: { durationMs: 3, state: 'succeeded' } } : {}),
      });
    }
  }
  return events;
}

async function fill(pg: Client, events: number): Promise<void> {
  const tasks = Math.ceil(events / TASK_EVENTS.length);
  for (let done = 0; done < tasks; done += FILL_TASKS_PER_STATEMENT) {
    await pg.query(
      `WITH t AS (SELECT gen_random_uuid()::text AS id FROM generate_series(1, $1::int))
       INSERT INTO audit_events (event_id, "time", "type", task_id, worker_id, attempt, actor)
       SELECT gen_random_uuid(), now(), kind, t.id, 'worker-1', 1, 'worker/worker-1/1234'
         FROM t, unnest($2::text[]) AS kind`,
      [Math.min(FILL_TASKS_PER_STATEMENT, tasks - done), TASK_EVENTS],
    );
  }
  await pg.query(
    `INSERT INTO task_history
       (task_id, "type", state, attempt, worker_id, created_at, last_seq, updated_at)
     SELECT task_id, 'noop', 'succeeded', 1, 'worker-1', now(), max(seq), now()
       FROM audit_events GROUP BY task_id`,
  );
  await pg.query('VACUUM ANALYZE audit_events, task_history');
  await pg.query('CHECKPOINT');
}

async function walLsn(pg: Client): Promise<string> {
  return (await pg.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0].lsn;
}

async function main(): Promise<void> {
  const options = parseOptions([
    {
      name: 'history',
      help: 'events already stored before the rounds',
      fallback: 3_000_000,
      min: 0,
    },
    { name: 'rounds', help: 'rounds of each kind of id (alternating)', fallback: 3, min: 1 },
    { name: 'batches', help: 'appends per round', fallback: 40, min: 1 },
    { name: 'batch', help: 'events per append (4 per task)', fallback: 1_500, min: 4 },
  ]);
  const database = await createTestDatabase('zks_bench_history');
  const audit = new AuditDatabase({ url: database.url });
  const pg = new Client({ connectionString: database.url });
  const rounds: Round[] = [];
  let fillSeconds = 0;
  try {
    audit.start();
    await audit.whenReady();
    await pg.connect();
    const store = new TypeOrmAuditStore(audit.dataSource, {
      assertReady: () => audit.assertReady(),
    });
    process.stderr.write(`filling ${options.history.toLocaleString('en-US')} events…\n`);
    const filling = performance.now();
    await fill(pg, options.history);
    fillSeconds = (performance.now() - filling) / 1000;
    for (let i = 0; i < options.rounds * 2; i++) {
      const ids: IdKind = i % 2 === 0 ? 'random' : 'time-ordered';
      const makeId = ids === 'random' ? randomUUID : newId;
      const from = await walLsn(pg);
      let ms = 0;
      let events = 0;
      for (let b = 0; b < options.batches; b++) {
        const batch = taskEvents(makeId, Math.floor(options.batch / TASK_EVENTS.length));
        const started = performance.now();
        await store.append(batch);
        ms += performance.now() - started;
        events += batch.length;
      }
      const wal = await pg.query<{ bytes: string }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS bytes',
        [from],
      );
      rounds.push({
        ids,
        events,
        microsPerEvent: round((ms * 1000) / events, 1),
        walBytesPerEvent: Math.round(Number(wal.rows[0].bytes) / events),
      });
      process.stderr.write(`  round ${i + 1}: ${ids}\n`);
    }
  } finally {
    await pg.end().catch(() => undefined);
    await audit.close();
    await database.drop();
  }
  const median = (ids: IdKind, key: 'microsPerEvent' | 'walBytesPerEvent'): number =>
    distribution(
      rounds.filter((r) => r.ids === ids).map((r) => r[key]),
      1,
    ).median;
  const medians = {
    random: {
      microsPerEvent: median('random', 'microsPerEvent'),
      walBytesPerEvent: median('random', 'walBytesPerEvent'),
    },
    timeOrdered: {
      microsPerEvent: median('time-ordered', 'microsPerEvent'),
      walBytesPerEvent: median('time-ordered', 'walBytesPerEvent'),
    },
  };
  process.stdout.write(
    [
      `Appends over a history of ${options.history.toLocaleString('en-US')} events ` +
        `(filled in ${round(fillSeconds)} s): ${options.batches} appends of ${options.batch} events per round`,
      '',
      table(
        ['round', 'ids', 'µs/event', 'WAL bytes/event'],
        rounds.map((r, i) => [
          String(i + 1),
          r.ids,
          String(r.microsPerEvent),
          r.walBytesPerEvent.toLocaleString('en-US'),
        ]),
      ),
      '',
      `medians: random ${medians.random.microsPerEvent} µs, ${medians.random.walBytesPerEvent} B; ` +
        `time-ordered ${medians.timeOrdered.microsPerEvent} µs, ${medians.timeOrdered.walBytesPerEvent} B`,
      JSON.stringify({
        bench: 'history-growth',
        config: options,
        fillSeconds: round(fillSeconds, 1),
        rounds,
        medians,
      }),
      '',
    ].join('\n'),
  );
}

runMain(module, main);
