import { Controller, Get, HttpStatus, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { AUDIT_STORE, type AuditStore } from '@app/audit';
import {
  DEFAULT_TASK_RATE_MINUTES,
  MAX_TASK_RATE_MINUTES,
  TASK_RATE_TYPES,
  type TaskRatesView,
} from '@app/contracts/dto/registry-api';
import { Convert, Optional, Rule, integerIn } from '@app/common/api';
import { RegistryApiErrors } from '../api/registry-api-errors.decorator';
import { TaskRatesDto } from '../api/registry-views.dto';
import { toInteger } from '../audit-query/audit-query.dto';

export class TaskRatesQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_TASK_RATE_MINUTES,
    default: DEFAULT_TASK_RATE_MINUTES,
  })
  @Convert(toInteger)
  @Optional()
  @Rule('minutes', integerIn(1, MAX_TASK_RATE_MINUTES))
  minutes?: number;
}

type RateType = (typeof TASK_RATE_TYPES)[number];

/**
 * `GET /v1/task-rates`: task events per second by outcome over the last
 * minutes, counted by PostgreSQL from the audit history (a range of the time
 * index, grouped there). The console draws its chart from it once, then keeps
 * it current from the live stream.
 */
@ApiTags('audit')
@Controller('v1/task-rates')
export class TaskRatesController {
  constructor(@Inject(AUDIT_STORE) private readonly store: AuditStore) {}

  @Get()
  @ApiOperation({
    summary: 'Task events per second by outcome, last minutes (default 15)',
    description: `Counts of ${TASK_RATE_TYPES.join(', ')} per whole second, by the events' own time; seconds without any are left out.`,
  })
  @ApiOkResponse({ type: TaskRatesDto })
  @RegistryApiErrors(HttpStatus.BAD_REQUEST)
  async get(@Query() query: TaskRatesQueryDto): Promise<TaskRatesView> {
    const since = Date.now() - (query.minutes ?? DEFAULT_TASK_RATE_MINUTES) * 60_000;
    const rows = await this.store.countsPerSecond(since, TASK_RATE_TYPES);
    const seconds: TaskRatesView['seconds'] = [];
    for (const row of rows) {
      let last = seconds.at(-1);
      if (last?.at !== row.second) {
        last = { at: row.second, counts: {} };
        seconds.push(last);
      }
      last.counts[row.type as RateType] = row.count;
    }
    return { since: new Date(since).toISOString(), seconds };
  }
}
