import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DEFAULT_RETRY } from '@app/contracts';
import { MAX_PAYLOAD_BYTES } from '@app/contracts/dto/scheduler-api';
import {
  checkBackoffMs,
  checkIdempotencyKey,
  checkLabels,
  checkMaxAttempts,
  checkObject,
  checkParallelism,
  checkPayloadSize,
  checkRunAt,
  checkTaskType,
  checkTimeoutMs,
  LIMITS,
} from '../validation/checks';
import { Nested, Optional, Required, Rule } from '@app/common/api';
import { PAYLOAD_SIZE_RULE } from '@app/common/api';

export class RetryDto {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: LIMITS.maxAttempts,
    example: 3,
    description: 'Attempts in all (the first included) before the task fails for good.',
  })
  @Required('maxAttempts', checkMaxAttempts)
  maxAttempts!: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: LIMITS.backoffMs,
    default: DEFAULT_RETRY.backoffMs,
    description: 'Delay before the 2nd attempt in ms; doubles for each further one.',
  })
  @Optional()
  @Rule('backoffMs', checkBackoffMs)
  backoffMs?: number;
}

export class SelectorDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { zone: 'eu-1' },
    description: `A worker qualifies when it carries every label with the same value (at most ${LIMITS.labels}).`,
  })
  @Required('labels', checkLabels)
  labels!: Record<string, string>;
}

export function TaskTypeField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example: 'noop', maxLength: LIMITS.typeLength, description: 'Handler name.' }),
    Required('type', checkTaskType),
  );
}

/** Any JSON value, kept exactly as sent. */
export function PayloadField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: `Any JSON value handed to the handler; at most ${MAX_PAYLOAD_BYTES} bytes as JSON (413 when over).`,
      type: 'object',
      additionalProperties: true,
      default: {},
      example: { url: 'https://example.org/hook' },
    }),
    Optional(),
    Rule(PAYLOAD_SIZE_RULE, checkPayloadSize),
  );
}

export function RunAtField(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ format: 'date-time', example: '2030-01-01T09:00:00Z', description }),
    Optional(),
    Rule('runAt', checkRunAt),
  );
}

export function RetryField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: () => RetryDto,
      description: `Default: ${DEFAULT_RETRY.maxAttempts} attempt, backoff ${DEFAULT_RETRY.backoffMs} ms.`,
    }),
    Optional(),
    Rule('retry', checkObject),
    Nested(() => RetryDto),
  );
}

export function TimeoutField(nullable = false): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.timeoutMs,
      nullable,
      description: `The worker aborts an attempt after this many ms.${nullable ? ' null removes the timeout.' : ''}`,
    }),
    Optional(nullable),
    Rule('timeoutMs', checkTimeoutMs),
  );
}

export function SelectorField(nullable = false): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: () => SelectorDto,
      nullable,
      description: `Which workers may run the tasks.${nullable ? ' null removes the selector.' : ''}`,
    }),
    Optional(nullable),
    Rule('selector', checkObject),
    Nested(() => SelectorDto),
  );
}

export function ParallelismField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.parallelism,
      default: 1,
      description: 'Gang size: the task runs on this many distinct workers that start together.',
    }),
    Optional(),
    Rule('parallelism', checkParallelism),
  );
}

export function IdempotencyKeyField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      minLength: 1,
      maxLength: LIMITS.idempotencyKeyLength,
      description: 'The same key again returns the task submitted first instead of a new one.',
    }),
    Optional(),
    Rule('idempotencyKey', checkIdempotencyKey),
  );
}
