import type { FieldError } from '@app/contracts/dto/scheduler-api';
import { fieldsOf, type DtoClass } from './field-registry';

/** Constraint name whose failure makes the answer a 413 (see validate.ts). */
export const TOO_LARGE_RULE = 'payloadSize';

export interface FastResult {
  errors: FieldError[];
  tooLarge: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * The class-validator path's answer for `plain` against `dto` (converting
 * fields in place), computed from
 * the field registry without building instances: the batch endpoint's path,
 * where class-validator costs ~30 ms of CPU per 1,000 tasks and this ~1 ms.
 * Same rules, same reasons, same order (unknown fields first, then fields in
 * declaration order, nested errors inline); a test holds the two to agreement.
 */
export function fastValidate(dto: DtoClass, plain: Record<string, unknown>): FastResult {
  const result: FastResult = { errors: [], tooLarge: false };
  visit(dto, plain, '', result);
  return result;
}

function visit(dto: DtoClass, plain: Record<string, unknown>, path: string, out: FastResult): void {
  const fields = fieldsOf(dto);
  for (const key of Object.keys(plain)) {
    if (!fields.has(key))
      out.errors.push({ field: join(path, key), reason: 'is not a known field' });
  }
  for (const [key, spec] of fields) {
    let value = plain[key];
    if (spec.convert && value !== undefined) {
      // In place: the caller gets `plain` back as the DTO, converted as toDto would.
      value = spec.convert(value);
      plain[key] = value;
    }
    if (!spec.conditions.every((holds) => holds(plain, value))) continue;
    const field = join(path, key);
    let failed = false;
    for (const rule of spec.rules) {
      const reason = rule.check(value, plain);
      if (reason !== undefined) {
        out.errors.push({ field, reason });
        if (rule.name === TOO_LARGE_RULE) out.tooLarge = true;
        failed = true;
        break;
      }
    }
    const nested = spec.nested;
    if (failed || !nested || value === undefined) continue;
    if (nested.each) {
      if (!Array.isArray(value)) continue;
      value.forEach((item: unknown, index) => {
        const itemField = `${field}[${index}]`;
        if (isPlainObject(item)) visit(nested.type(), item, itemField, out);
        else out.errors.push({ field: itemField, reason: 'must be a JSON object' });
      });
    } else if (isPlainObject(value)) {
      visit(nested.type(), value, field, out);
    } else {
      out.errors.push({ field, reason: 'must be a JSON object' });
    }
  }
}
