import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  CONCURRENCY_POLICIES,
  DEFAULT_TIMEZONE,
  MISFIRE_POLICIES,
  type ConcurrencyPolicy,
  type MisfirePolicy,
} from '@app/contracts';
import {
  MAX_BATCH_JOBS,
  type CreateJobBody,
  type CreateJobsBody,
  type UpdateJobBody,
} from '@app/contracts/dto/scheduler-api';
import {
  checkBatch,
  checkBoolean,
  checkConcurrency,
  checkCron,
  checkJobName,
  checkJobSchedule,
  checkMisfire,
  checkTaskType,
  checkTimezone,
  LIMITS,
} from '../validation/checks';
import { FastValidation, Optional, Required, Rule, When } from '@app/common/api';
import {
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

const SCHEDULE_DOC = {
  example: '*/5 * * * *',
  maxLength: LIMITS.scheduleLength,
  description:
    'Cron, 5 fields (minute precision) or 6 (leading seconds). Exactly one of schedule and runAt.',
};

function TimezoneField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      default: DEFAULT_TIMEZONE,
      example: 'Europe/Paris',
      description: 'IANA time zone of the schedule.',
    }),
    Optional(),
    Rule('timezone', checkTimezone),
  );
}

function ConcurrencyField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: CONCURRENCY_POLICIES,
      default: 'allow',
      description: "What a fire does while the job's previous task still runs.",
    }),
    Optional(),
    Rule('concurrency', checkConcurrency),
  );
}

function MisfireField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: MISFIRE_POLICIES,
      default: 'fire_once',
      description: 'What happens to instants missed while no leader ran or the job was paused.',
    }),
    Optional(),
    Rule('misfire', checkMisfire),
  );
}

function PausedField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ default: false }),
    Optional(),
    Rule('paused', checkBoolean),
  );
}

/** Validated by the fast path (same rules, no instances): creates are the hot path at scale. */
@FastValidation()
export class CreateJobDto implements CreateJobBody {
  @ApiProperty({ example: 'nightly-report', maxLength: LIMITS.nameLength, description: 'Unique.' })
  @Required('name', checkJobName)
  name!: string;

  @TaskTypeField()
  type!: string;

  @PayloadField()
  payload?: unknown;

  @ApiPropertyOptional(SCHEDULE_DOC)
  // Checked also when absent: then runAt is required.
  @When((job) => job.schedule !== undefined || job.runAt === undefined)
  @Rule('schedule', checkJobSchedule)
  schedule?: string;

  @TimezoneField()
  timezone?: string;

  @RunAtField('One-off fire time. Exactly one of schedule and runAt.')
  runAt?: string;

  @RetryField()
  retry?: RetryDto;

  @TimeoutField()
  timeoutMs?: number;

  @ConcurrencyField()
  concurrency?: ConcurrencyPolicy;

  @MisfireField()
  misfire?: MisfirePolicy;

  @SelectorField()
  selector?: SelectorDto;

  @ParallelismField()
  parallelism?: number;

  @PausedField()
  paused?: boolean;
}

/**
 * A merge patch of a job. Fields given replace the job's (`retry` and `selector`
 * as a whole); `null` removes `timeoutMs` or `selector`; `schedule` replaces a
 * `runAt` and the other way round. The result is validated as a new job would be.
 */
export class UpdateJobDto implements UpdateJobBody {
  @ApiPropertyOptional({ maxLength: LIMITS.nameLength })
  @Optional()
  @Rule('name', checkJobName)
  name?: string;

  @ApiPropertyOptional({ example: 'noop', maxLength: LIMITS.typeLength })
  @Optional()
  @Rule('type', checkTaskType)
  type?: string;

  @PayloadField()
  payload?: unknown;

  @ApiPropertyOptional({
    ...SCHEDULE_DOC,
    description: `${SCHEDULE_DOC.description} Replaces runAt.`,
  })
  @Optional()
  @Rule('schedule', (value, target) =>
    target.runAt !== undefined
      ? 'cannot be combined with runAt: give exactly one of schedule (cron) or runAt'
      : checkCron(value, target),
  )
  schedule?: string;

  @TimezoneField()
  timezone?: string;

  @RunAtField('One-off fire time; replaces schedule.')
  runAt?: string;

  @RetryField()
  retry?: RetryDto;

  @TimeoutField(true)
  timeoutMs?: number | null;

  @ConcurrencyField()
  concurrency?: ConcurrencyPolicy;

  @MisfireField()
  misfire?: MisfirePolicy;

  @SelectorField(true)
  selector?: SelectorDto | null;

  @ParallelismField()
  parallelism?: number;

  @PausedField()
  paused?: boolean;
}

/**
 * Up to MAX_BATCH_JOBS jobs. Only the list is checked here: each job is
 * validated on its own, and an invalid one is that item's error.
 */
@FastValidation()
export class CreateJobsDto implements CreateJobsBody {
  @ApiProperty({ type: () => [CreateJobDto], minItems: 1, maxItems: MAX_BATCH_JOBS })
  @Required('jobs', checkBatch('job', MAX_BATCH_JOBS))
  jobs!: CreateJobDto[];
}
