import type { JobRecord } from '@app/contracts';

/** Longest JSON of a value kept in a change; longer ones (a payload, most likely) say only their size. */
const MAX_VALUE_CHARS = 200;
/** Bookkeeping, not the definition. */
const NOT_DEFINITION = new Set(['id', 'owner', 'createdAt', 'updatedAt']);

export interface FieldChange {
  from?: unknown;
  to?: unknown;
}

/**
 * What a job update changed, field by field, for its audit event (`detail.
 * changed`): the history then says who changed what and when, and the
 * console's job page shows it. Values are kept as they were (absent = the
 * field was not set); one longer than MAX_VALUE_CHARS as JSON becomes
 * `"<N characters>"`, so an event stays small whatever the payload.
 */
export function jobChanges(before: JobRecord, after: JobRecord): Record<string, FieldChange> {
  const changed: Record<string, FieldChange> = {};
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const field of [...fields].sort()) {
    if (NOT_DEFINITION.has(field)) continue;
    const from = (before as unknown as Record<string, unknown>)[field];
    const to = (after as unknown as Record<string, unknown>)[field];
    const [fromJson, toJson] = [JSON.stringify(from), JSON.stringify(to)];
    if (fromJson === toJson) continue;
    changed[field] = {
      ...(from === undefined ? {} : { from: small(from, fromJson) }),
      ...(to === undefined ? {} : { to: small(to, toJson) }),
    };
  }
  return changed;
}

function small(value: unknown, json: string): unknown {
  return json.length <= MAX_VALUE_CHARS ? value : `<${json.length} characters>`;
}
