/**
 * A group member's data on the wire: a JSON object, checked when written
 * (GroupMembership) and when read (GroupView, deep-frozen so the cache cannot
 * be edited). Both directions in one place so they stay symmetric.
 */

/** A member's data: a JSON object (not an array, not null), deep-frozen so the cache cannot be edited. */
export function parseMember<T>(raw: string): T {
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`expected a JSON object, got ${Array.isArray(value) ? 'an array' : raw}`);
  }
  return deepFreeze(value) as T;
}

function deepFreeze(value: object): object {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}

export function encodeMember(id: string, data: unknown): string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TypeError(`group member ${id}: data must be a JSON object`);
  }
  try {
    return JSON.stringify(data);
  } catch (error) {
    throw new TypeError(
      `group member ${id}: data is not JSON-serialisable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
