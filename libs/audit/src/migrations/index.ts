import { CreateAuditTables1763683200000 } from './1763683200000-create-audit-tables';

/** Every migration, oldest first (listed, not globbed: the build and the tests load the same). */
export const AUDIT_MIGRATIONS = [CreateAuditTables1763683200000];
