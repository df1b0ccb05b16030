import type { AuditEvent } from '@app/contracts';
import { auditEventProblem } from '@app/audit';

/** What an outbox node holds, once checked: its events, or why it cannot be stored. */
export type ParsedEntry = { ok: true; events: AuditEvent[] } | { ok: false; reason: string };

/**
 * Parses an outbox node (`{ events: AuditEvent[] }`, see `outboxOp`) and checks
 * each event as the store will (`auditEventProblem`). A node that fails can
 * never be stored: the drain moves it aside instead of retrying it for ever,
 * which would block every node after it.
 */
export function parseOutboxEntry(data: Buffer): ParsedEntry {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message})` };
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    !Array.isArray((value as { events?: unknown }).events)
  ) {
    return { ok: false, reason: 'not an outbox entry: expected { "events": [...] }' };
  }
  const events = (value as { events: unknown[] }).events as AuditEvent[];
  for (let i = 0; i < events.length; i++) {
    const problem = auditEventProblem(events[i]);
    if (problem !== undefined) return { ok: false, reason: `events[${i}]: ${problem}` };
  }
  return { ok: true, events };
}
