import { applyDecorators } from '@nestjs/common';
import { ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import type { Check } from './checks';
import { fieldSpec, type DtoClass } from './field-registry';

/**
 * The API's field decorators. Each one declares a class-validator constraint
 * and records the same thing in the field registry, so the class-validator
 * path and the fast path cannot drift apart.
 */

type Target = Readonly<Record<string, unknown>>;

/**
 * A constraint from a `Check`: the check's reason is the message, so one field
 * fails with one reason. `name` is the constraint key (`payloadSize` marks a 413).
 */
export function Rule(name: string, check: Check): PropertyDecorator {
  const target = (object: object): Target => object as Target;
  return applyDecorators(
    (prototype: object, key: string | symbol) => {
      fieldSpec(prototype, key).rules.push({ name, check });
    },
    ValidateBy({
      name,
      validator: {
        validate: (value, args) => check(value, target(args?.object ?? {})) === undefined,
        defaultMessage: (args) => check(args?.value, target(args?.object ?? {})) ?? 'is invalid',
      },
    }),
  );
}

/** The rules of the property run only when `condition` holds. */
export function When(condition: (target: Target, value: unknown) => boolean): PropertyDecorator {
  return applyDecorators(
    (prototype: object, key: string | symbol) => {
      fieldSpec(prototype, key).conditions.push(condition);
    },
    ValidateIf((object: object, value: unknown) => condition(object as Target, value)),
  );
}

/**
 * Validates the property only when it is present. Unlike `@IsOptional()`, a
 * `null` is still checked (and rejected by the rule) unless `nullable`: then
 * `null` is accepted as it is (a PATCH clearing the field).
 */
export function Optional(nullable = false): PropertyDecorator {
  return When((_target, value) => value !== undefined && (!nullable || value !== null));
}

/** A required property: `undefined` fails with "is required", anything else goes to the rule. */
export function Required(name: string, check: Check): PropertyDecorator {
  return Rule(name, (value, target) =>
    value === undefined ? 'is required' : check(value, target),
  );
}

/** A property holding a DTO (or, with `each`, an array of them): built and validated as one. */
export function Nested(type: () => DtoClass, options: { each?: boolean } = {}): PropertyDecorator {
  const each = options.each ?? false;
  return applyDecorators((prototype: object, key: string | symbol) => {
    fieldSpec(prototype, key).nested = { type, each };
  }, ValidateNested({ each }));
}

/** Converts the raw value before validation (query strings: digits to numbers). */
export function Convert(convert: (value: unknown) => unknown): PropertyDecorator {
  return (prototype: object, key: string | symbol) => {
    fieldSpec(prototype, key).convert = convert;
  };
}
