import { ApiProperty } from '@nestjs/swagger';
import {
  MAX_BATCH_TASKS,
  type SubmitTaskBody,
  type SubmitTasksBody,
} from '@app/contracts/dto/scheduler-api';
import type { Check } from '../validation/checks';
import { Nested, Required } from '@app/common/api';
import { FastValidation } from '@app/common/api';
import {
  IdempotencyKeyField,
  ParallelismField,
  PayloadField,
  RetryDto,
  RetryField,
  RunAtField,
  SelectorDto,
  SelectorField,
  TaskTypeField,
  TimeoutField,
} from './shared-fields';

export class SubmitTaskDto implements SubmitTaskBody {
  @TaskTypeField()
  type!: string;

  @PayloadField()
  payload?: unknown;

  @RunAtField('Earliest start; default now.')
  runAt?: string;

  @IdempotencyKeyField()
  idempotencyKey?: string;

  @RetryField()
  retry?: RetryDto;

  @TimeoutField()
  timeoutMs?: number;

  @SelectorField()
  selector?: SelectorDto;

  @ParallelismField()
  parallelism?: number;
}

const checkBatch: Check = (value) => {
  if (!Array.isArray(value)) return 'must be an array of tasks';
  if (value.length === 0) return 'must hold at least 1 task';
  if (value.length > MAX_BATCH_TASKS) {
    return `must hold at most ${MAX_BATCH_TASKS} tasks (got ${value.length}): split the batch`;
  }
  // Here rather than per item: class-validator would validate an array item as
  // a list of tasks (and pass an empty one).
  const bad = value.findIndex(
    (item) => typeof item !== 'object' || item === null || Array.isArray(item),
  );
  return bad < 0 ? undefined : `must hold only JSON objects (item ${bad} is not)`;
};

/**
 * Validated by the fast path (same rules, no instances): class-validator costs
 * ~30 ms of CPU per 1,000 tasks, this endpoint's whole budget.
 */
@FastValidation()
export class SubmitTasksDto implements SubmitTasksBody {
  @ApiProperty({ type: () => [SubmitTaskDto], minItems: 1, maxItems: MAX_BATCH_TASKS })
  @Required('tasks', checkBatch)
  @Nested(() => SubmitTaskDto, { each: true })
  tasks!: SubmitTaskDto[];
}
