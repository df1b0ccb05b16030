import { AuditEventEntity } from './audit-event.entity';
import { TaskHistoryEntity } from './task-history.entity';
import { WebhookDeliveryEntity } from './webhook-delivery.entity';
import { WebhookSubscriptionEntity } from './webhook-subscription.entity';

export { AuditEventEntity, TaskHistoryEntity, WebhookDeliveryEntity, WebhookSubscriptionEntity };

export const AUDIT_ENTITIES = [
  AuditEventEntity,
  TaskHistoryEntity,
  WebhookSubscriptionEntity,
  WebhookDeliveryEntity,
];
