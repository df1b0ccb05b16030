import { ApiError } from '../errors/api-error';

/**
 * Deeper JSON than this is refused before anything walks it recursively
 * (JSON.stringify for the size check and the store): `JSON.parse` accepts a
 * million nested arrays, and the first recursive walk would then overflow the
 * stack (a 500).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The reported field names the API field, not the whole descent: at most this
 * many segments, and nothing below a free-form JSON field (`tasks[3].payload`).
 */
const REPORTED_SEGMENTS = 3;
const FREE_FORM = /(^|\.)(payload|labels)$/;

/**
 * Throws an ApiError (400) when `body` nests deeper than MAX_JSON_DEPTH or holds
 * a `__proto__` key anywhere: harmless here, but a payload carrying one
 * replaces the prototype of whatever a handler `Object.assign`s it to.
 * Iterative (the check itself cannot overflow) and allocation-light: it runs
 * on every item of a 1,000-task batch.
 */
export function checkJsonShape(body: unknown): void {
  // Parallel stacks: the value, its depth, and its path (only the first segments are named).
  const values: unknown[] = [body];
  const depths: number[] = [0];
  const paths: string[] = [''];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    const path = paths.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw ApiError.field(path || 'body', `must not nest deeper than ${MAX_JSON_DEPTH} levels`);
    }
    const named = depth < REPORTED_SEGMENTS && !FREE_FORM.test(path);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'object' || item === null) continue;
        values.push(item);
        depths.push(depth + 1);
        paths.push(named ? `${path}[${i}]` : path);
      }
      continue;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (key === '__proto__') {
        throw named
          ? ApiError.field(childPath(path, key), 'is not an allowed key')
          : ApiError.field(path, 'must not contain the key "__proto__"');
      }
      const item = (value as Record<string, unknown>)[key];
      if (typeof item !== 'object' || item === null) continue;
      values.push(item);
      depths.push(depth + 1);
      paths.push(named ? childPath(path, key) : path);
    }
  }
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
