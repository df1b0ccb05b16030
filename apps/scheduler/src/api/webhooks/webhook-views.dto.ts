import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  WEBHOOK_EVENT_TYPES,
  type CreatedWebhookView,
  type DeliveryPage,
  type DeliveryView,
  type WebhookEventSelector,
  type WebhookView,
} from '@app/audit';
import { WebhookFilterDto } from './webhook.dto';

export class WebhookViewDto implements WebhookView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String], enum: [...WEBHOOK_EVENT_TYPES, '*'] })
  events!: WebhookEventSelector[];
  @ApiPropertyOptional({ type: () => WebhookFilterDto }) filter?: WebhookFilterDto;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedWebhookDto extends WebhookViewDto implements CreatedWebhookView {
  @ApiProperty({ description: 'The signing secret: shown in this answer only.' })
  secret!: string;
}

export class WebhookPageDto {
  @ApiProperty({ type: [WebhookViewDto] }) items!: WebhookViewDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class DeliveryViewDto implements DeliveryView {
  @ApiProperty({ format: 'uuid', description: 'The audit event id (X-Zks-Delivery).' })
  eventId!: string;
  @ApiProperty({ example: 'task.failed' }) type!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] })
  state!: DeliveryView['state'];
  @ApiProperty() attempts!: number;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time' }) queuedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) lastAttemptAt?: string;
  @ApiPropertyOptional() lastStatus?: number;
  @ApiPropertyOptional() lastError?: string;
  @ApiPropertyOptional({ format: 'date-time' }) nextAttemptAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
}

export class DeliveryPageDto implements DeliveryPage {
  @ApiProperty({ type: [DeliveryViewDto] }) items!: DeliveryViewDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class PingQueuedDto {
  @ApiProperty({ format: 'uuid', description: 'X-Zks-Delivery of the ping.' }) eventId!: string;
}
