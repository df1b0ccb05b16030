import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { ValidationError, validateSync, type ValidatorOptions } from 'class-validator';
import type { FieldError } from '@app/contracts/dto/scheduler-api';
import { ApiError } from '../errors/api-error';
import { checkJsonShape } from './json-shape';
import { fastValidate, TOO_LARGE_RULE } from './fast-validate';
import { usesFastValidation, type DtoClass } from './field-registry';
import { toDto } from './to-dto';

/** Constraint keys with a fixed wording of their own. */
const WHITELIST = 'whitelistValidation';
const NESTED = 'nestedValidation';
const UNKNOWN_VALUE = 'unknownValue';
/** A payload over the size limit makes the whole answer a 413. */
export const PAYLOAD_SIZE_RULE = TOO_LARGE_RULE;

/** Field errors beyond this are summarised: a batch of 1,000 bad tasks must not answer megabytes. */
export const MAX_REPORTED_ERRORS = 100;

/**
 * class-validator options shared by the HTTP pipe and the gRPC handlers: unknown
 * fields are errors (naming them), one reason per field, nested DTOs validated.
 */
export const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  stopAtFirstError: true,
  validationError: { target: false, value: false },
};

/** `ValidationError` trees as flat `{ field, reason }` lists: `retry.maxAttempts`, `tasks[3].type`. */
export function toFieldErrors(errors: readonly ValidationError[]): FieldError[] {
  const flat: FieldError[] = [];
  const visit = (error: ValidationError, parent: string): void => {
    const property = String(error.property ?? '');
    const field = /^\d+$/.test(property)
      ? `${parent}[${property}]`
      : parent && property
        ? `${parent}.${property}`
        : parent || property;
    const constraints = error.constraints ?? {};
    const [key] = Object.keys(constraints);
    if (key !== undefined) flat.push({ field, reason: reasonFor(key, constraints[key]) });
    for (const child of error.children ?? []) visit(child, field);
  };
  for (const error of errors) visit(error, '');
  return flat;
}

function reasonFor(constraint: string, message: string): string {
  if (constraint === WHITELIST) return 'is not a known field';
  if (constraint === NESTED) return 'must be a JSON object';
  if (constraint === UNKNOWN_VALUE) return 'must be a JSON object';
  return message;
}

export function hasConstraint(errors: readonly ValidationError[], name: string): boolean {
  return errors.some(
    (error) =>
      (error.constraints !== undefined && name in error.constraints) ||
      hasConstraint(error.children ?? [], name),
  );
}

/** The API error for failed validation: 413 when a payload is too large, 400 otherwise. */
export function validationApiError(errors: readonly ValidationError[]): ApiError {
  return fieldsApiError(toFieldErrors(errors), hasConstraint(errors, PAYLOAD_SIZE_RULE));
}

/** At most MAX_REPORTED_ERRORS field errors, then one that counts the rest. */
export function fieldsApiError(all: readonly FieldError[], tooLarge: boolean): ApiError {
  const reported =
    all.length > MAX_REPORTED_ERRORS
      ? [
          ...all.slice(0, MAX_REPORTED_ERRORS),
          { field: '', reason: `has ${all.length - MAX_REPORTED_ERRORS} more errors` },
        ]
      : all;
  return ApiError.invalid(reported, tooLarge ? 'too_large' : 'invalid', all.length);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates parsed JSON (an HTTP body or query, a gRPC request turned into the
 * HTTP shape, a merged job) against a DTO class; returns the DTO instance.
 * Throws ApiError: 400 naming each field, 413 for a payload too large.
 */
export function validateInput<T extends object>(
  dto: DtoClass<T>,
  plain: unknown,
  field = 'body',
): T {
  if (!isPlainObject(plain)) throw ApiError.field(field, 'must be a JSON object');
  checkJsonShape(plain);
  if (usesFastValidation(dto)) {
    const { errors, tooLarge } = fastValidate(dto, plain);
    if (errors.length > 0) throw fieldsApiError(errors, tooLarge);
    return plain as T;
  }
  const { instance, errors } = validateWithClassValidator(dto, plain);
  if (errors.length > 0) throw validationApiError(errors);
  return instance;
}

/** The class-validator path alone (the fast path is held to agree with it). */
export function validateWithClassValidator<T extends object>(
  dto: DtoClass<T>,
  plain: Record<string, unknown>,
): { instance: T; errors: ValidationError[] } {
  const shadowing: string[] = [];
  const instance = toDto(dto, plain, shadowing);
  const unknown = shadowing.map((field): ValidationError =>
    Object.assign(new ValidationError(), {
      property: field,
      constraints: { [WHITELIST]: `property ${field} should not exist` },
      children: [],
    }),
  );
  return { instance, errors: [...unknown, ...validateSync(instance, VALIDATOR_OPTIONS)] };
}

/**
 * The global pipe: bodies and queries typed by a DTO class go through
 * validateInput, the same path as gRPC requests. Nest's ValidationPipe is not
 * used because it deletes every `constructor`, `prototype` and `__proto__` key
 * anywhere in the body (user payloads and label maps included) before
 * validating, and builds DTOs with class-transformer (see to-dto.ts).
 */
@Injectable()
export class ApiValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const { metatype, type } = metadata;
    if ((type !== 'body' && type !== 'query') || !isDtoClass(metatype)) return value;
    if (type === 'body' && !isPlainObject(value)) {
      // Also what a body without `Content-Type: application/json` looks like: none.
      throw ApiError.field(
        'body',
        'must be a JSON object, sent with Content-Type: application/json',
      );
    }
    return validateInput(metatype, value, type);
  }
}

const NOT_DTOS: readonly unknown[] = [Object, String, Number, Boolean, Array];

function isDtoClass(metatype: unknown): metatype is DtoClass {
  return typeof metatype === 'function' && !NOT_DTOS.includes(metatype);
}
