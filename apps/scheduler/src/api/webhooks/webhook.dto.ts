import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WEBHOOK_EVENT_TYPES, type WebhookEventSelector } from '@app/audit';
import { Convert, Nested, Optional, Required, Rule, integerIn } from '@app/common/api';
import { checkJobId, checkObject, checkTaskType } from '../validation/checks';
import {
  WEBHOOK_LIMITS,
  checkWebhookEvents,
  checkWebhookId,
  checkWebhookSecret,
  checkWebhookUrl,
} from './webhook-checks';

export class WebhookFilterDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only events about this job (its tasks).' })
  @Optional()
  @Rule('jobId', checkJobId)
  jobId?: string;

  @ApiPropertyOptional({
    example: 'http',
    description: 'Only events about tasks of this handler type.',
  })
  @Optional()
  @Rule('taskType', checkTaskType)
  taskType?: string;
}

function UrlField(required: boolean): PropertyDecorator {
  const doc = {
    example: 'https://hooks.example.com/zks',
    maxLength: WEBHOOK_LIMITS.urlLength,
    description:
      'Where events are POSTed. Checked like the http handler targets: WEBHOOK_ALLOWED_HOSTS, or public addresses only (here for IP literals, at each delivery for names).',
  };
  return required
    ? applyDecorators(ApiProperty(doc), Required('url', checkWebhookUrl))
    : applyDecorators(ApiPropertyOptional(doc), Optional(), Rule('url', checkWebhookUrl));
}

function EventsField(required: boolean): PropertyDecorator {
  const doc = {
    enum: [...WEBHOOK_EVENT_TYPES, '*'],
    isArray: true,
    example: ['task.failed', 'task.timed_out'],
    description: 'Event types to deliver; `*` for all.',
  } as const;
  return required
    ? applyDecorators(ApiProperty(doc), Required('events', checkWebhookEvents))
    : applyDecorators(ApiPropertyOptional(doc), Optional(), Rule('events', checkWebhookEvents));
}

function SecretField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      minLength: WEBHOOK_LIMITS.secretMin,
      maxLength: WEBHOOK_LIMITS.secretMax,
      description:
        'HMAC key of X-Zks-Signature. Generated when absent; answered once, never shown again.',
    }),
    Optional(),
    Rule('secret', checkWebhookSecret),
  );
}

function FilterField(nullable: boolean): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: () => WebhookFilterDto,
      nullable,
      description: `Only events matching every field.${nullable ? ' null removes the filter.' : ''}`,
    }),
    Optional(nullable),
    Rule('filter', checkObject),
    Nested(() => WebhookFilterDto),
  );
}

export class CreateWebhookDto {
  @UrlField(true)
  url!: string;

  @EventsField(true)
  events!: WebhookEventSelector[];

  @SecretField()
  secret?: string;

  @FilterField(false)
  filter?: WebhookFilterDto;
}

/** A merge patch: given fields replace the subscription's; a new secret is answered once. */
export class UpdateWebhookDto {
  @UrlField(false)
  url?: string;

  @EventsField(false)
  events?: WebhookEventSelector[];

  @SecretField()
  secret?: string;

  @FilterField(true)
  filter?: WebhookFilterDto | null;
}

const toInteger = (value: unknown): unknown =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

export class WebhookPageQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @Optional()
  @Rule(
    'cursor',
    (value) => checkWebhookId(value, {}) && 'must be a nextCursor from a previous page',
  )
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @Convert(toInteger)
  @Optional()
  @Rule('limit', integerIn(1, 1000))
  limit?: number;
}

export class DeliveryPageQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page (older deliveries).' })
  @Optional()
  @Rule('cursor', (value) =>
    typeof value === 'string' && /^[1-9]\d{0,17}$/.test(value)
      ? undefined
      : 'must be a nextCursor from a previous page',
  )
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @Convert(toInteger)
  @Optional()
  @Rule('limit', integerIn(1, 1000))
  limit?: number;
}
