import { AuditEventEntity } from './audit-event.entity';
import { TaskHistoryEntity } from './task-history.entity';

export { AuditEventEntity, TaskHistoryEntity };

export const AUDIT_ENTITIES = [AuditEventEntity, TaskHistoryEntity];
