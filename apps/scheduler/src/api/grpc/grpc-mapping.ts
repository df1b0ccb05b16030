/**
 * gRPC messages to and from the HTTP API's shapes, so that both transports run
 * the same validation (field names as in HTTP: `retry.maxAttempts`) and the
 * same services.
 */
import type { JobView, SubmittedTaskView, TaskView } from '@app/contracts/dto/scheduler-api';
import type {
  CreatedJobMessage,
  JobFieldsMessage,
  JobMessage,
  ListJobsRequest,
  ListTasksRequest,
  RetryPolicyMessage,
  SelectorMessage,
  SubmitTaskRequest,
  TaskMessage,
  UpdateJobRequest,
} from '@app/contracts/proto/scheduler/v1/scheduler-messages';
import { ApiError, GRPC_STATUS_OF } from '@app/common/api';
import type { CreatedJob } from '../jobs/jobs.service';

type Plain = Record<string, unknown>;

/** Drops unset fields: an unset optional field means "default", as an absent JSON field. */
export function defined(fields: Plain): Plain {
  const result: Plain = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) result[key] = value;
  return result;
}

function field(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function parseJson(json: string | undefined, name: string): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch (error) {
    throw ApiError.field(name, `must be valid JSON (${(error as Error).message})`);
  }
}

function retryBody(retry: RetryPolicyMessage | undefined): Plain | undefined {
  return retry && defined({ maxAttempts: retry.maxAttempts, backoffMs: retry.backoffMs });
}

function selectorBody(selector: SelectorMessage | undefined): Plain | undefined {
  return selector && { labels: selector.labels ?? {} };
}

export function jobBody(message: JobFieldsMessage): Plain {
  return defined({
    name: message.name,
    type: message.type,
    payload: parseJson(message.payloadJson, 'payloadJson'),
    schedule: message.schedule,
    timezone: message.timezone,
    runAt: message.runAt,
    retry: retryBody(message.retry),
    timeoutMs: message.timeoutMs,
    concurrency: message.concurrency,
    misfire: message.misfire,
    selector: selectorBody(message.selector),
    parallelism: message.parallelism,
    paused: message.paused,
  });
}

const CLEARABLE = ['timeoutMs', 'selector'];

/** An UpdateJobRequest as a merge patch: `clearFields` become nulls. */
export function jobPatch(message: UpdateJobRequest): Plain {
  const { id: _id, clearFields = [], ...fields } = message;
  const patch = jobBody(fields);
  for (const name of clearFields) {
    if (!CLEARABLE.includes(name)) {
      throw ApiError.field('clearFields', `may only list ${CLEARABLE.join(', ')} (got "${name}")`);
    }
    if (patch[name] !== undefined) {
      throw ApiError.field(name, 'cannot be both set and listed in clearFields');
    }
    patch[name] = null;
  }
  return patch;
}

export function taskBody(message: SubmitTaskRequest, prefix = ''): Plain {
  return defined({
    type: message.type,
    payload: parseJson(message.payloadJson, field(prefix, 'payloadJson')),
    runAt: message.runAt,
    idempotencyKey: message.idempotencyKey,
    retry: retryBody(message.retry),
    timeoutMs: message.timeoutMs,
    selector: selectorBody(message.selector),
    parallelism: message.parallelism,
  });
}

export function listJobsQuery(request: ListJobsRequest): Plain {
  return defined({ cursor: request.cursor, limit: request.limit, name: request.name });
}

export function listTasksQuery(request: ListTasksRequest): Plain {
  return defined({
    jobId: request.jobId,
    state: request.state,
    cursor: request.cursor,
    limit: request.limit,
  });
}

function orUndefined<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}

export function jobMessage(job: JobView): JobMessage {
  return {
    id: job.id,
    name: job.name,
    type: job.type,
    payloadJson: JSON.stringify(job.payload),
    schedule: orUndefined(job.schedule),
    timezone: job.timezone,
    runAt: orUndefined(job.runAt),
    retry: job.retry,
    timeoutMs: orUndefined(job.timeoutMs),
    concurrency: job.concurrency,
    misfire: job.misfire,
    selector: orUndefined(job.selector),
    parallelism: job.parallelism,
    paused: job.paused,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    nextFireAt: orUndefined(job.nextFireAt),
    lastFireAt: orUndefined(job.lastFireAt),
  };
}

export function taskMessage(task: TaskView): TaskMessage {
  return {
    id: task.id,
    jobId: orUndefined(task.jobId),
    type: task.type,
    payloadJson: JSON.stringify(task.payload),
    state: task.state,
    attempt: task.attempt,
    failures: task.failures,
    retry: task.retry,
    timeoutMs: orUndefined(task.timeoutMs),
    selector: orUndefined(task.selector),
    parallelism: task.parallelism,
    idempotencyKey: orUndefined(task.idempotencyKey),
    runAt: task.runAt,
    fireTime: orUndefined(task.fireTime),
    workerId: orUndefined(task.workerId),
    workers: task.workers,
    createdAt: task.createdAt,
    assignedAt: orUndefined(task.assignedAt),
    startedAt: orUndefined(task.startedAt),
    finishedAt: orUndefined(task.finishedAt),
    retryAt: orUndefined(task.retryAt),
    resultJson:
      task.result === null || task.result === undefined ? undefined : JSON.stringify(task.result),
    error: orUndefined(task.error),
  };
}

export function submittedMessage(task: SubmittedTaskView): SubmittedTaskView {
  return { id: task.id, state: task.state };
}

export function createdJobMessage(created: CreatedJob): CreatedJobMessage {
  if (created.job) return { job: jobMessage(created.job) };
  const { kind, message, errors } = created.error;
  return { error: { code: GRPC_STATUS_OF[kind], message, errors: [...errors] } };
}
