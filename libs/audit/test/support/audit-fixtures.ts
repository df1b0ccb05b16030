import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventType } from '@app/contracts';
import { AuditDatabase, TypeOrmAuditStore } from '@app/audit';

/** A connected, migrated store on `url` and its database (close the database when done). */
export async function openStore(
  url: string,
): Promise<{ database: AuditDatabase; store: TypeOrmAuditStore }> {
  const database = new AuditDatabase({ url, connectTimeoutMs: 2_000, retryDelayMs: 100 });
  database.start();
  await database.whenReady();
  const store = new TypeOrmAuditStore(database.dataSource, {
    assertReady: () => database.assertReady(),
  });
  return { database, store };
}

let clock = Date.UTC(2026, 0, 1);

/** An event with a fresh id, one millisecond after the previous one. */
export function auditEvent(type: AuditEventType, fields: Partial<AuditEvent> = {}): AuditEvent {
  clock += 1;
  return { id: randomUUID(), time: clock, type, actor: 'test/t-1/1', ...fields };
}

/** The events of a task that is created, runs on `workerId` and succeeds. */
export function succeedingTask(taskId: string, jobId: string, workerId: string): AuditEvent[] {
  const on = { taskId, jobId, workerId, attempt: 1 };
  return [
    auditEvent('task.created', { taskId, jobId, detail: { type: 'noop', runAt: clock } }),
    auditEvent('task.assigned', on),
    auditEvent('task.started', { ...on, detail: { lateMs: 2 } }),
    auditEvent('task.succeeded', { ...on, detail: { durationMs: 1, state: 'succeeded' } }),
  ];
}
