import { ApiPropertyOptional } from '@nestjs/swagger';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '@app/contracts';
import { DEFAULT_AUDIT_PAGE_LIMIT, MAX_AUDIT_PAGE_LIMIT } from '@app/contracts/dto/registry-api';
import { Convert, Optional, Rule, integerIn, oneOf } from '@app/common/api';
import { checkCursor, checkIdentifier, checkIsoTime, checkUntil } from './audit-checks';

/** Query strings carry text: digits become a number, anything else stays for the rule to refuse. */
export const toInteger = (value: unknown): unknown =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

/** Filters shared by the history query and the live stream. */
export class AuditFilterDto {
  @ApiPropertyOptional({ description: 'Only the events of this job.' })
  @Optional()
  @Rule('jobId', checkIdentifier)
  jobId?: string;

  @ApiPropertyOptional({ description: 'Only the events of this task.' })
  @Optional()
  @Rule('taskId', checkIdentifier)
  taskId?: string;

  @ApiPropertyOptional({ description: 'Only the events about this worker.' })
  @Optional()
  @Rule('workerId', checkIdentifier)
  workerId?: string;

  @ApiPropertyOptional({ enum: AUDIT_EVENT_TYPES })
  @Optional()
  @Rule('type', oneOf(AUDIT_EVENT_TYPES))
  type?: AuditEventType;
}

export class AuditQueryDto extends AuditFilterDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Events at or after this time (ISO 8601 with an offset).',
  })
  @Optional()
  @Rule('since', checkIsoTime)
  since?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Events before this time (ISO 8601 with an offset); after `since`.',
  })
  @Optional()
  @Rule('until', checkUntil)
  until?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @Optional()
  @Rule('cursor', checkCursor)
  cursor?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_AUDIT_PAGE_LIMIT,
    default: DEFAULT_AUDIT_PAGE_LIMIT,
  })
  @Convert(toInteger)
  @Optional()
  @Rule('limit', integerIn(1, MAX_AUDIT_PAGE_LIMIT))
  limit?: number;
}

export class LiveEventsQueryDto extends AuditFilterDto {
  @ApiPropertyOptional({
    description:
      'Resume after this seq (the id of the last event seen); the `Last-Event-ID` header does the same. Default: from now on.',
  })
  @Optional()
  @Rule('lastEventId', checkCursor)
  lastEventId?: string;
}
