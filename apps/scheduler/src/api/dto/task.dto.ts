import { ApiProperty } from '@nestjs/swagger';
import {
  MAX_BATCH_TASKS,
  type SubmitTaskBody,
  type SubmitTasksBody,
} from '@app/contracts/dto/scheduler-api';
import { checkBatch } from '../validation/checks';
import { FastValidation, Nested, Required } from '@app/common/api';
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

/**
 * Validated by the fast path (same rules, no instances): class-validator costs
 * ~30 ms of CPU per 1,000 tasks, this endpoint's whole budget.
 */
@FastValidation()
export class SubmitTasksDto implements SubmitTasksBody {
  @ApiProperty({ type: () => [SubmitTaskDto], minItems: 1, maxItems: MAX_BATCH_TASKS })
  @Required('tasks', checkBatch('task', MAX_BATCH_TASKS))
  @Nested(() => SubmitTaskDto, { each: true })
  tasks!: SubmitTaskDto[];
}
