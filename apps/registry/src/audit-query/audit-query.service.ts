import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_STORE, type AuditQuery, type AuditStore, type StoredAuditEvent } from '@app/audit';
import { DEFAULT_AUDIT_PAGE_LIMIT } from '@app/contracts/dto/registry-api';
import { parseIsoDateTime } from '@app/common/api';
import type { AuditQueryDto } from './audit-query.dto';

export interface AuditResultPage {
  events: StoredAuditEvent[];
  nextCursor: string | null;
}

/**
 * The audit history, oldest first, for the HTTP and gRPC controllers (inputs
 * are validated DTOs). Keyset pagination on `seq`: a page is `seq > cursor`,
 * so walking the pages returns every row once, in order, however many rows
 * arrive meanwhile (they get higher seqs: the store serialises its appends).
 * `nextCursor` is null when nothing more matches *now*; rows stored later can
 * still be read by passing the last seq seen as `cursor`.
 */
@Injectable()
export class AuditQueryService {
  constructor(@Inject(AUDIT_STORE) private readonly store: AuditStore) {}

  async query(dto: AuditQueryDto): Promise<AuditResultPage> {
    const query: AuditQuery = { limit: dto.limit ?? DEFAULT_AUDIT_PAGE_LIMIT };
    if (dto.jobId !== undefined) query.jobId = dto.jobId;
    if (dto.taskId !== undefined) query.taskId = dto.taskId;
    if (dto.workerId !== undefined) query.workerId = dto.workerId;
    if (dto.type !== undefined) query.type = dto.type;
    if (dto.since !== undefined) query.since = parseIsoDateTime(dto.since);
    if (dto.until !== undefined) query.until = parseIsoDateTime(dto.until);
    if (dto.cursor !== undefined) query.after = dto.cursor;
    const page = await this.store.query(query);
    return { events: page.events, nextCursor: page.nextCursor ?? null };
  }
}
