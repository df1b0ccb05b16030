import { randomUUID } from 'node:crypto';
import { Op, type ZkOp } from '@app/zk';
import { ZkLayout, type AuditEvent, type AuditEventType, type OutboxEntry } from '@app/contracts';
import { encodeJson } from './json-codec';

export type AuditFields = Omit<AuditEvent, 'id' | 'time' | 'type' | 'actor'>;

/**
 * Makes audit events for one process. Events are not written on their own: they
 * travel in the same `multi()` as the change they describe (see `outboxOp`).
 */
export class AuditWriter {
  constructor(
    /** `<service>/<member id>/<pid>` */
    readonly actor: string,
    private readonly now: () => number = Date.now,
  ) {}

  event(type: AuditEventType, fields: AuditFields = {}): AuditEvent {
    return { id: randomUUID(), time: this.now(), type, actor: this.actor, ...fields };
  }
}

/** The outbox node carrying `events`, created in the transaction that made them true. */
export function outboxOp(events: readonly AuditEvent[]): ZkOp {
  const entry: OutboxEntry = { events: [...events] };
  return Op.create(ZkLayout.outboxEntryPrefix, encodeJson(entry), 'persistent_sequential');
}
