import { CreateAuditTables1763683200000 } from './1763683200000-create-audit-tables';
import { IndexIdempotencyKeys1779321600000 } from './1779321600000-index-idempotency-keys';
import { CreateWebhookTables1796601600000 } from './1796601600000-create-webhook-tables';

/** Every migration, oldest first (listed, not globbed: the build and the tests load the same). */
export const AUDIT_MIGRATIONS = [
  CreateAuditTables1763683200000,
  IndexIdempotencyKeys1779321600000,
  CreateWebhookTables1796601600000,
];
