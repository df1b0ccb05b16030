export * from './audit-store';
export * from './audit-errors';
export * from './audit-data-source';
export * from './postgres-admin';
export * from './audit-database';
export * from './embedded-default';
export { auditEventProblem } from './audit-rows';
export { FOLDED_EVENT_TYPES, foldTaskEvent, type HistoryRow } from './task-history-fold';
export { isUnavailable } from './unavailable';
export { TypeOrmAuditStore, type TypeOrmAuditStoreOptions } from './typeorm-audit-store';
export {
  auditQueryStatement,
  MAX_PAGE,
  taskHistoryStatement,
  type Statement,
} from './audit-query-sql';
export * from './entities';
export { AUDIT_MIGRATIONS } from './migrations';
export * from './webhooks';
export { PgCalls } from './pg-calls';
