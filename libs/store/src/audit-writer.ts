import { Op, type ZkOp } from '@app/zk';
import { ZkLayout, newId, type AuditEvent, type AuditEventType } from '@app/contracts';

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
    /** The API token name of the call being served, if any (see currentPrincipal). */
    private readonly tokenName: () => string | undefined = () => undefined,
  ) {}

  event(type: AuditEventType, fields: AuditFields = {}): AuditEvent {
    const event: AuditEvent = {
      id: newId(),
      time: this.now(),
      type,
      actor: this.actor,
      ...fields,
    };
    // Which token acted goes into detail: no schema change, and it is queryable as JSON.
    const token = this.tokenName();
    if (token !== undefined) event.detail = { ...event.detail, token };
    return event;
  }
}

/** The outbox node carrying `events`, created in the transaction that made them true. */
export function outboxOp(events: readonly AuditEvent[]): ZkOp {
  return encodedOutboxOp(events.map((event) => JSON.stringify(event)));
}

/** The outbox node (an OutboxEntry) from events already encoded, each as its JSON text. */
export function encodedOutboxOp(events: readonly string[]): ZkOp {
  return Op.create(
    ZkLayout.outboxEntryPrefix,
    `{"events":[${events.join(',')}]}`,
    'persistent_sequential',
  );
}
