import { PayloadError } from '../task-handler';

/**
 * Small readers for handler payloads (plain JSON from the API). Each failure
 * is a PayloadError naming the field, so the task's error says what to fix.
 */
export type PayloadObject = Record<string, unknown>;

/** The payload as an object with only `known` fields (a typo is an error, not a silent default). */
export function payloadObject(payload: unknown, known: readonly string[]): PayloadObject {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new PayloadError('', `must be a JSON object with ${known.join(', ')}`);
  }
  for (const key of Object.keys(payload)) {
    if (!known.includes(key)) {
      throw new PayloadError(key, `is not a known field (known: ${known.join(', ')})`);
    }
  }
  return payload as PayloadObject;
}

export function requiredString(object: PayloadObject, field: string): string {
  const value = object[field];
  if (value === undefined) {
    throw new PayloadError(field, 'is required');
  }
  if (typeof value !== 'string' || value === '') {
    throw new PayloadError(field, 'must be a non-empty string');
  }
  return value;
}

export function optionalString(object: PayloadObject, field: string): string | undefined {
  return object[field] === undefined ? undefined : requiredString(object, field);
}

export interface NumberRange {
  min: number;
  max: number;
}

export function requiredNumber(object: PayloadObject, field: string, range: NumberRange): number {
  const value = object[field];
  if (value === undefined) {
    throw new PayloadError(field, 'is required');
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PayloadError(field, 'must be a finite number');
  }
  if (value < range.min || value > range.max) {
    throw new PayloadError(field, `must be between ${range.min} and ${range.max}, got ${value}`);
  }
  return value;
}

export function optionalBoolean(object: PayloadObject, field: string): boolean | undefined {
  const value = object[field];
  if (value !== undefined && typeof value !== 'boolean') {
    throw new PayloadError(field, 'must be a boolean');
  }
  return value;
}

export function optionalStringArray(object: PayloadObject, field: string): string[] | undefined {
  const value = object[field];
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value)) {
    throw new PayloadError(field, 'must be an array of strings');
  }
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string') {
      throw new PayloadError(`${field}[${index}]`, 'must be a string');
    }
    return item;
  });
}

export function optionalStringRecord(
  object: PayloadObject,
  field: string,
): Record<string, string> | undefined {
  const value = object[field];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PayloadError(field, 'must be an object of string values');
  }
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new PayloadError(`${field}.${key}`, 'must be a string');
    }
    result[key] = item;
  }
  return result;
}

export function optionalOneOf<T extends string>(
  object: PayloadObject,
  field: string,
  allowed: readonly T[],
): T | undefined {
  const value = object[field];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new PayloadError(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}
