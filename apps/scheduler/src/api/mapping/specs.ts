import {
  DEFAULT_RETRY,
  DEFAULT_TIMEZONE,
  type JobRecord,
  type JobSpec,
  type RetrySpec,
  type Selector,
} from '@app/contracts';
import type { CreateJobBody } from '@app/contracts/dto/scheduler-api';
import type { TaskSubmission } from '@app/store';
import { CreateJobDto, type UpdateJobDto } from '../dto/job.dto';
import type { RetryDto, SelectorDto } from '../dto/shared-fields';
import type { SubmitTaskDto } from '../dto/task.dto';
import { parseIsoDateTime, toIso } from '@app/common/api';
import { validateInput } from '@app/common/api';

/** An ISO time that passed validation. */
function epochOf(iso: string): number {
  const epoch = parseIsoDateTime(iso);
  if (epoch === undefined) throw new Error(`unvalidated date-time reached the store: ${iso}`);
  return epoch;
}

function retryOf(retry: RetryDto | undefined): RetrySpec {
  if (!retry) return { ...DEFAULT_RETRY };
  return { maxAttempts: retry.maxAttempts, backoffMs: retry.backoffMs ?? DEFAULT_RETRY.backoffMs };
}

function selectorOf(selector: SelectorDto | null | undefined): Selector | undefined {
  return selector ? { labels: { ...selector.labels } } : undefined;
}

/**
 * The stored definition of a validated job, with the API's defaults. Every
 * optional key is present (possibly undefined): JobStore.update spreads the
 * result over the stored record, so an absent key would keep the old value.
 */
export function jobSpecOf(job: CreateJobDto): JobSpec {
  return {
    name: job.name,
    type: job.type,
    payload: job.payload === undefined ? {} : job.payload,
    schedule: job.schedule,
    timezone: job.timezone ?? DEFAULT_TIMEZONE,
    runAt: job.runAt === undefined ? undefined : epochOf(job.runAt),
    retry: retryOf(job.retry),
    timeoutMs: job.timeoutMs,
    concurrency: job.concurrency ?? 'allow',
    misfire: job.misfire ?? 'fire_once',
    selector: selectorOf(job.selector),
    parallelism: job.parallelism ?? 1,
    paused: job.paused ?? false,
  };
}

/** A stored job in the shape of a create request, to validate a patched job as a new one. */
function bodyOf(job: JobRecord): CreateJobBody {
  const body: CreateJobBody = {
    name: job.name,
    type: job.type,
    payload: job.payload,
    timezone: job.timezone,
    retry: { ...job.retry },
    concurrency: job.concurrency,
    misfire: job.misfire,
    parallelism: job.parallelism,
    paused: job.paused,
  };
  if (job.schedule !== undefined) body.schedule = job.schedule;
  if (job.runAt !== undefined) body.runAt = toIso(job.runAt);
  if (job.timeoutMs !== undefined) body.timeoutMs = job.timeoutMs;
  if (job.selector !== undefined) body.selector = { labels: { ...job.selector.labels } };
  return body;
}

/**
 * Applies a validated patch to a stored job and validates the result as a
 * whole (a new time zone must suit the schedule, …). Throws ApiError.
 */
export function patchedJobSpec(current: JobRecord, patch: UpdateJobDto): JobSpec {
  const body: Record<string, unknown> = { ...bodyOf(current) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === 'schedule') delete body.runAt;
    if (key === 'runAt') delete body.schedule;
    if (value === null) delete body[key];
    else body[key] = value;
  }
  // Plain copies of the nested DTOs: the merged object is validated from scratch.
  if (body.retry !== undefined) body.retry = { ...(body.retry as object) };
  if (body.selector !== undefined) body.selector = { ...(body.selector as object) };
  return jobSpecOf(validateInput(CreateJobDto, body));
}

export function taskSubmissionOf(task: SubmitTaskDto): TaskSubmission {
  const submission: TaskSubmission = {
    type: task.type,
    payload: task.payload === undefined ? {} : task.payload,
    retry: retryOf(task.retry),
  };
  if (task.runAt !== undefined) submission.runAt = epochOf(task.runAt);
  if (task.idempotencyKey !== undefined) submission.idempotencyKey = task.idempotencyKey;
  if (task.timeoutMs !== undefined) submission.timeoutMs = task.timeoutMs;
  if (task.selector !== undefined) submission.selector = selectorOf(task.selector);
  if (task.parallelism !== undefined) submission.parallelism = task.parallelism;
  return submission;
}
