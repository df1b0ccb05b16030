import { ApiPropertyOptional } from '@nestjs/swagger';
import { TASK_STATES, type TaskState } from '@app/contracts';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '@app/contracts/dto/scheduler-api';
import { LIMITS, checkJobId, checkTaskId, checkTaskState, integerIn } from '../validation/checks';
import { Convert, Optional, Rule } from '@app/common/api';
import { parseTaskCursor } from '../tasks/task-cursor';

/** Query strings carry text: digits become a number, anything else stays for the rule to refuse. */
const toInteger = (value: unknown): unknown =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

const checkLimit = integerIn(1, MAX_PAGE_LIMIT);

export class ListJobsQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @Optional()
  @Rule('cursor', (value) => checkJobId(value, {}) && 'must be a nextCursor from a previous page')
  cursor?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    default: DEFAULT_PAGE_LIMIT,
  })
  @Convert(toInteger)
  @Optional()
  @Rule('limit', checkLimit)
  limit?: number;

  @ApiPropertyOptional({
    maxLength: LIMITS.nameLength,
    description: 'Only jobs whose name contains this text (case-insensitive).',
  })
  @Optional()
  @Rule('name', checkNameFilter)
  name?: string;
}

export class ListTasksQueryDto {
  @ApiPropertyOptional({ description: 'Only the tasks fired by this job.' })
  @Optional()
  @Rule('jobId', checkJobId)
  jobId?: string;

  @ApiPropertyOptional({ enum: TASK_STATES })
  @Optional()
  @Rule('state', checkTaskState)
  state?: TaskState;

  @ApiPropertyOptional({
    description:
      'nextCursor of the previous page. Live tasks (ZooKeeper) come first, then tasks retired to the history (`h~…` cursors).',
  })
  @Optional()
  @Rule('cursor', (value) => checkTaskCursor(value) && 'must be a nextCursor from a previous page')
  cursor?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    default: DEFAULT_PAGE_LIMIT,
  })
  @Convert(toInteger)
  @Optional()
  @Rule('limit', checkLimit)
  limit?: number;
}

function checkNameFilter(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length < 1 || value.length > LIMITS.nameLength) {
    return `must be 1 to ${LIMITS.nameLength} characters`;
  }
  return undefined;
}

/** A live-phase cursor is a task id; a history-phase one `h~` and a task id (or nothing). */
function checkTaskCursor(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  const { phase, after } = parseTaskCursor(value);
  if (phase === 'history' && after === undefined) return undefined;
  return checkTaskId(after, {});
}
