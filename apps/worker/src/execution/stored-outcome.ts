import type { TaskError } from '@app/contracts';
import { excerpt } from '@app/store';

/**
 * What a worker stores of an attempt's outcome beside the state (its result or
 * its error), within ZooKeeper's limits. The record transitions themselves are
 * in `@app/store`.
 */

/** Largest result kept in a record; ZooKeeper nodes are small (jute.maxbuffer 1 MiB). */
export const RESULT_LIMIT_BYTES = 64 * 1024;
/** Longest error message kept in a record; audit details keep a shorter excerpt. */
export const ERROR_MESSAGE_LIMIT = 2_000;

/**
 * A result as stored: JSON, at most RESULT_LIMIT_BYTES; anything else is
 * replaced by a note saying why (the task still succeeded).
 */
export function storableResult(value: unknown): unknown {
  if (value === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    return { note: `result dropped: not JSON (${messageOf(error)})` };
  }
  if (json === undefined) return undefined;
  // Characters ≤ bytes ≤ 3 × characters: measure bytes only when it can matter.
  if (json.length * 3 > RESULT_LIMIT_BYTES) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > RESULT_LIMIT_BYTES) {
      return {
        note: `result dropped: ${bytes} bytes of JSON exceed the ${RESULT_LIMIT_BYTES}-byte limit`,
      };
    }
  }
  return value;
}

export function taskError(code: string, error: unknown): TaskError {
  return { code, message: excerpt(messageOf(error), ERROR_MESSAGE_LIMIT) };
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : String(error);
}
