import { ApiPropertyOptional } from '@nestjs/swagger';
import { DEFAULT_TIMEZONE } from '@app/contracts';
import {
  DEFAULT_PREVIEW_COUNT,
  MAX_PREVIEW_COUNT,
  type PreviewJobBody,
} from '@app/contracts/dto/scheduler-api';
import { parseIsoDateTime, Optional, Rule, When } from '@app/common/api';
import {
  LIMITS,
  checkJobSchedule,
  checkRunAt,
  checkTimezone,
  integerIn,
} from '../validation/checks';

const ISO_REASON = 'must be an ISO 8601 date-time with an offset, e.g. 2030-01-01T09:00:00Z';

/**
 * A job's timing to preview: the same fields and rules as a job's create
 * (exactly one of schedule and runAt, the zone checked on its own field).
 */
export class PreviewJobDto implements PreviewJobBody {
  @ApiPropertyOptional({
    example: '0 9 * * 1-5',
    maxLength: LIMITS.scheduleLength,
    description: 'Cron, 5 or 6 fields. Exactly one of schedule and runAt.',
  })
  @When((body) => body.schedule !== undefined || body.runAt === undefined)
  @Rule('schedule', checkJobSchedule)
  schedule?: string;

  @ApiPropertyOptional({ default: DEFAULT_TIMEZONE, example: 'Europe/Paris' })
  @Optional()
  @Rule('timezone', checkTimezone)
  timezone?: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2030-01-01T09:00:00Z' })
  @Optional()
  @Rule('runAt', checkRunAt)
  runAt?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PREVIEW_COUNT,
    default: DEFAULT_PREVIEW_COUNT,
  })
  @Optional()
  @Rule('count', integerIn(1, MAX_PREVIEW_COUNT))
  count?: number;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Instants strictly after this one; default now.',
  })
  @Optional()
  @Rule('after', (value) =>
    typeof value === 'string' && parseIsoDateTime(value) !== undefined ? undefined : ISO_REASON,
  )
  after?: string;
}
