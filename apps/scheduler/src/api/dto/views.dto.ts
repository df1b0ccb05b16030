/**
 * Response shapes as classes, for the OpenAPI document; the services build plain
 * objects of the same interfaces (`@app/contracts/dto/scheduler-api`).
 */
import { ApiProperty } from '@nestjs/swagger';
import {
  CONCURRENCY_POLICIES,
  MISFIRE_POLICIES,
  TASK_STATES,
  type ConcurrencyPolicy,
  type MisfirePolicy,
  type TaskState,
} from '@app/contracts';
import type {
  FireInstantView,
  JobPreviewView,
  JobView,
  Page,
  SubmittedTaskView,
  TaskView,
} from '@app/contracts/dto/scheduler-api';
import { ApiErrorBodyDto } from '@app/common/api';
import { SelectorDto } from './shared-fields';

const ANY_JSON = { type: 'object', additionalProperties: true } as const;
const TIME = { type: String, format: 'date-time' } as const;
const OPTIONAL_TIME = { ...TIME, nullable: true } as const;

export class RetrySpecDto {
  @ApiProperty() maxAttempts!: number;
  @ApiProperty() backoffMs!: number;
}

export class JobViewDto implements JobView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ ...ANY_JSON, description: 'Any JSON value.' }) payload!: unknown;
  @ApiProperty({ type: String, nullable: true }) schedule!: string | null;
  @ApiProperty() timezone!: string;
  @ApiProperty(OPTIONAL_TIME) runAt!: string | null;
  @ApiProperty({ type: () => RetrySpecDto }) retry!: RetrySpecDto;
  @ApiProperty({ type: Number, nullable: true }) timeoutMs!: number | null;
  @ApiProperty({ enum: CONCURRENCY_POLICIES }) concurrency!: ConcurrencyPolicy;
  @ApiProperty({ enum: MISFIRE_POLICIES }) misfire!: MisfirePolicy;
  @ApiProperty({ type: () => SelectorDto, nullable: true }) selector!: SelectorDto | null;
  @ApiProperty() parallelism!: number;
  @ApiProperty() paused!: boolean;
  @ApiProperty(TIME) createdAt!: string;
  @ApiProperty(TIME) updatedAt!: string;
  @ApiProperty({
    ...OPTIONAL_TIME,
    description: "The leader's next fire, or computed; null when paused or done.",
  })
  nextFireAt!: string | null;
  @ApiProperty(OPTIONAL_TIME) lastFireAt!: string | null;
}

export class JobPageDto implements Page<JobView> {
  @ApiProperty({ type: () => [JobViewDto] }) items!: JobViewDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class CreatedJobDto {
  @ApiProperty({ type: () => JobViewDto, required: false, description: 'The job, when created.' })
  job?: JobViewDto;

  @ApiProperty({
    type: () => ApiErrorBodyDto,
    required: false,
    description: 'Why the job was not created: the answer it alone would have got.',
  })
  error?: ApiErrorBodyDto;
}

export class CreatedJobsDto {
  @ApiProperty({ type: () => [CreatedJobDto], description: 'In request order.' })
  items!: CreatedJobDto[];
}

export class FireInstantDto implements FireInstantView {
  @ApiProperty({ ...TIME, example: '2030-01-01T08:00:00.000Z' }) at!: string;
  @ApiProperty({
    example: '2030-01-01T09:00:00+01:00',
    description: 'The same instant on the wall clock of the job’s time zone, with its offset.',
  })
  local!: string;
}

export class JobPreviewDto implements JobPreviewView {
  @ApiProperty({ example: 'Europe/Paris' }) timezone!: string;
  @ApiProperty({ type: () => [FireInstantDto] }) instants!: FireInstantDto[];
}

export class TriggeredDto {
  @ApiProperty({ example: '6f1c…@manual-0b7e…' }) taskId!: string;
}

export class SubmittedTaskDto implements SubmittedTaskView {
  @ApiProperty() id!: string;
  @ApiProperty({
    enum: TASK_STATES,
    description:
      "`pending`; `assigned` when the leader gave it a worker as it was created; for a repeated idempotency key, the earlier task's state.",
  })
  state!: TaskState;
}

export class SubmittedTasksDto {
  @ApiProperty({ type: () => [SubmittedTaskDto], description: 'In request order.' })
  items!: SubmittedTaskDto[];
}

export class TaskErrorDto {
  @ApiProperty({ example: 'timeout' }) code!: string;
  @ApiProperty() message!: string;
}

export class TaskViewDto implements TaskView {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true }) jobId!: string | null;
  @ApiProperty() type!: string;
  @ApiProperty(ANY_JSON) payload!: unknown;
  @ApiProperty({ enum: TASK_STATES }) state!: TaskState;
  @ApiProperty({ description: '1 for the first assignment; 0 before.' }) attempt!: number;
  @ApiProperty() failures!: number;
  @ApiProperty({ type: () => RetrySpecDto }) retry!: RetrySpecDto;
  @ApiProperty({ type: Number, nullable: true }) timeoutMs!: number | null;
  @ApiProperty({ type: () => SelectorDto, nullable: true }) selector!: SelectorDto | null;
  @ApiProperty() parallelism!: number;
  @ApiProperty({ type: String, nullable: true }) idempotencyKey!: string | null;
  @ApiProperty(TIME) runAt!: string;
  @ApiProperty(OPTIONAL_TIME) fireTime!: string | null;
  @ApiProperty({ type: String, nullable: true }) workerId!: string | null;
  @ApiProperty({ type: [String] }) workers!: string[];
  @ApiProperty(TIME) createdAt!: string;
  @ApiProperty(OPTIONAL_TIME) assignedAt!: string | null;
  @ApiProperty(OPTIONAL_TIME) startedAt!: string | null;
  @ApiProperty(OPTIONAL_TIME) finishedAt!: string | null;
  @ApiProperty(OPTIONAL_TIME) retryAt!: string | null;
  @ApiProperty({ ...ANY_JSON, nullable: true }) result!: unknown;
  @ApiProperty({ type: () => TaskErrorDto, nullable: true }) error!: TaskErrorDto | null;
}

export class TaskPageDto implements Page<TaskView> {
  @ApiProperty({ type: () => [TaskViewDto] }) items!: TaskViewDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

// The error body is shared with the registry's API (@app/common/api).
export { ApiErrorBodyDto, FieldErrorDto } from '@app/common/api';
