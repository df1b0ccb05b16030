import { randomUUID } from 'node:crypto';
import { Op, type ZkClient } from '@app/zk';
import { ZkLayout, type AuditEvent, type AuditEventType } from '@app/contracts';
import { outboxOp } from '@app/store';

let clock = Date.UTC(2030, 0, 1);

/** A synthetic audit event (the drain does not care who made it). */
export function syntheticEvent(
  type: AuditEventType = 'task.created',
  fields: Partial<AuditEvent> = {},
): AuditEvent {
  clock += 1;
  return { id: randomUUID(), time: clock, type, actor: 'test/outbox/1', ...fields };
}

/** Writes `nodes` outbox nodes of `perNode` events each (in order), pipelined; returns the events in order. */
export async function fillOutbox(
  zk: ZkClient,
  nodes: number,
  perNode = 1,
  make: (index: number) => AuditEvent = () => syntheticEvent(),
): Promise<AuditEvent[]> {
  const all: AuditEvent[] = [];
  const batches: AuditEvent[][] = [];
  for (let n = 0; n < nodes; n++) {
    const events = Array.from({ length: perNode }, () => make(all.length));
    batches.push(events);
    all.push(...events);
  }
  // Sequential creates keep the outbox order equal to `all`.
  for (let i = 0; i < batches.length; i += 100) {
    await zk.multi(batches.slice(i, i + 100).map((events) => outboxOp(events)));
  }
  return all;
}

/** A node the drain cannot read. */
export async function writeRawOutboxNode(zk: ZkClient, data: string): Promise<string> {
  const [result] = await zk.multi([
    Op.create(ZkLayout.outboxEntryPrefix, data, 'persistent_sequential'),
  ]);
  return (result as { path: string }).path;
}

export async function outboxDepth(zk: ZkClient): Promise<number> {
  return (await zk.exists(ZkLayout.outbox))?.numChildren ?? 0;
}
