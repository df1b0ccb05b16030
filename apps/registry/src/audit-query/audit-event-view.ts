import type { StoredAuditEvent } from '@app/audit';
import type { AuditEventView } from '@app/contracts/dto/registry-api';
import type { AuditEventMessage } from '@app/contracts/proto/registry/v1/registry-messages';

export function auditEventView(event: StoredAuditEvent): AuditEventView {
  return {
    seq: event.seq,
    id: event.id,
    time: new Date(event.time).toISOString(),
    type: event.type,
    jobId: event.jobId ?? null,
    taskId: event.taskId ?? null,
    workerId: event.workerId ?? null,
    attempt: event.attempt ?? null,
    actor: event.actor,
    fencingToken: event.fencingToken ?? null,
    detail: event.detail ?? null,
  };
}

export function auditEventMessage(event: StoredAuditEvent): AuditEventMessage {
  return {
    seq: event.seq,
    id: event.id,
    time: new Date(event.time).toISOString(),
    type: event.type,
    jobId: event.jobId,
    taskId: event.taskId,
    workerId: event.workerId,
    attempt: event.attempt,
    actor: event.actor,
    fencingToken: event.fencingToken,
    detailJson: event.detail === undefined ? undefined : JSON.stringify(event.detail),
  };
}
