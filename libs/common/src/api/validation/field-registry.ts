import type { Check } from './checks';

/**
 * What the API's field decorators (`Rule`, `Optional`, `Nested`, `Convert`)
 * declare about each DTO property, recorded beside class-validator's own
 * metadata. It lets `toDto` build instances without class-transformer and the
 * fast path (`fast-validate.ts`) apply the very same rules without
 * class-validator.
 */

export type DtoClass<T extends object = object> = new () => T;

export interface NamedCheck {
  /** The class-validator constraint name (`payloadSize` marks a 413). */
  name: string;
  check: Check;
}

export interface FieldSpec {
  /** Every condition must hold for the rules to run (class-validator's `ValidateIf`). */
  conditions: Array<(target: Readonly<Record<string, unknown>>, value: unknown) => boolean>;
  /** Run in order; the first failure is the field's reason (stopAtFirstError). */
  rules: NamedCheck[];
  nested?: { type: () => DtoClass; each: boolean };
  convert?: (value: unknown) => unknown;
}

const declared = new WeakMap<object, Map<string, FieldSpec>>();
const resolved = new WeakMap<object, ReadonlyMap<string, FieldSpec>>();

/** The spec of `key` on `prototype`, created on first use (in declaration order). */
export function fieldSpec(prototype: object, key: string | symbol): FieldSpec {
  let fields = declared.get(prototype);
  if (!fields) declared.set(prototype, (fields = new Map()));
  let spec = fields.get(String(key));
  if (!spec) fields.set(String(key), (spec = { conditions: [], rules: [] }));
  return spec;
}

/**
 * Decorators run bottom-up, class-validator runs constraints in that same
 * registration order: `rules` and `conditions` keep it. A subclass's fields
 * follow its parents'.
 */
export function fieldsOf(dto: DtoClass): ReadonlyMap<string, FieldSpec> {
  const prototype = dto.prototype as object;
  let fields = resolved.get(prototype);
  if (!fields) {
    const chain: object[] = [];
    for (
      let p: object | null = prototype;
      p && p !== Object.prototype;
      p = Object.getPrototypeOf(p)
    ) {
      chain.unshift(p);
    }
    const merged = new Map<string, FieldSpec>();
    for (const p of chain) for (const [key, spec] of declared.get(p) ?? []) merged.set(key, spec);
    resolved.set(prototype, (fields = merged));
  }
  return fields;
}

const fastPath = new WeakSet<object>();

/**
 * Validates the class with `fastValidate` instead of class-validator (same
 * rules, from this registry): for the high-volume batch endpoint. The result
 * is the request object itself, not an instance of the class.
 */
export function FastValidation(): ClassDecorator {
  return (target) => {
    fastPath.add(target);
  };
}

export function usesFastValidation(dto: DtoClass): boolean {
  return fastPath.has(dto);
}
