/**
 * Wire shapes of the scheduler's public HTTP API (`/v1/jobs`, `/v1/tasks`), for
 * clients in this repository (benchmarks, the registry, tests). Times are ISO 8601
 * strings; absent values are `null` in responses. The gRPC API carries the same
 * fields (see `proto/scheduler/v1/scheduler.proto`).
 */
import type { ConcurrencyPolicy, MisfirePolicy, RetrySpec, Selector } from '../job';
import type { TaskError } from '../task';
import type { TaskState } from '../task-state';

/** Largest `payload`, measured on its JSON encoding (UTF-8 bytes). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Tasks in one `POST /v1/tasks/batch`. */
export const MAX_BATCH_TASKS = 1_000;
/** Jobs in one `POST /v1/jobs/batch`. */
export const MAX_BATCH_JOBS = 1_000;
/** Largest HTTP request body (and gRPC message). */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1_000;

export interface CreateJobBody {
  name: string;
  type: string;
  payload?: unknown;
  /** Cron, 5 or 6 fields; exclusive with `runAt`. */
  schedule?: string;
  timezone?: string;
  /** ISO 8601 with an offset; exclusive with `schedule`. */
  runAt?: string;
  retry?: { maxAttempts: number; backoffMs?: number };
  timeoutMs?: number;
  concurrency?: ConcurrencyPolicy;
  misfire?: MisfirePolicy;
  selector?: Selector;
  parallelism?: number;
  paused?: boolean;
}

/** A merge patch: `null` clears `timeoutMs` or `selector`; `schedule` or `runAt` replaces the timing. */
export type UpdateJobBody = Partial<Omit<CreateJobBody, 'timeoutMs' | 'selector'>> & {
  timeoutMs?: number | null;
  selector?: Selector | null;
};

export interface JobView {
  id: string;
  name: string;
  type: string;
  payload: unknown;
  schedule: string | null;
  timezone: string;
  runAt: string | null;
  retry: RetrySpec;
  timeoutMs: number | null;
  concurrency: ConcurrencyPolicy;
  misfire: MisfirePolicy;
  selector: Selector | null;
  parallelism: number;
  paused: boolean;
  createdAt: string;
  updatedAt: string;
  nextFireAt: string | null;
  lastFireAt: string | null;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface SubmitTaskBody {
  type: string;
  payload?: unknown;
  runAt?: string;
  idempotencyKey?: string;
  retry?: { maxAttempts: number; backoffMs?: number };
  timeoutMs?: number;
  selector?: Selector;
  parallelism?: number;
}

export interface CreateJobsBody {
  jobs: CreateJobBody[];
}

/** One item of a job batch, in request order: the job created, or why it was not. */
export type CreatedJobItem = { job: JobView; error?: never } | { error: ApiErrorBody; job?: never };

export interface SubmitTasksBody {
  tasks: SubmitTaskBody[];
}

export interface SubmittedTaskView {
  id: string;
  state: TaskState;
}

export interface TaskView {
  id: string;
  jobId: string | null;
  type: string;
  payload: unknown;
  state: TaskState;
  attempt: number;
  failures: number;
  retry: RetrySpec;
  timeoutMs: number | null;
  selector: Selector | null;
  parallelism: number;
  idempotencyKey: string | null;
  runAt: string;
  fireTime: string | null;
  workerId: string | null;
  workers: string[];
  createdAt: string;
  assignedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  retryAt: string | null;
  result: unknown;
  error: TaskError | null;
}

export interface FieldError {
  /** Path in the request: `retry.maxAttempts`, `tasks[3].runAt`, `id`, `body`. */
  field: string;
  reason: string;
}

/** Every 4xx/5xx of the API has this body. */
export interface ApiErrorBody {
  statusCode: number;
  /** The HTTP status text. */
  error: string;
  message: string;
  errors: FieldError[];
}

export const DEFAULT_PREVIEW_COUNT = 10;
export const MAX_PREVIEW_COUNT = 100;

/** POST /v1/jobs/preview: a job's timing, nothing is written. */
export interface PreviewJobBody {
  /** Cron (5 or 6 fields); exactly one of schedule and runAt. */
  schedule?: string;
  timezone?: string;
  runAt?: string;
  /** How many instants (1..MAX_PREVIEW_COUNT, default DEFAULT_PREVIEW_COUNT). */
  count?: number;
  /** Instants strictly after this one (default: now). */
  after?: string;
}

export interface FireInstantView {
  /** The instant, UTC (`2030-01-01T08:00:00.000Z`). */
  at: string;
  /** The same instant on the job zone's wall clock, with its offset (`2030-01-01T09:00:00+01:00`). */
  local: string;
}

export interface JobPreviewView {
  timezone: string;
  /** The next fire instants, ascending; fewer than asked when the schedule has no more. */
  instants: FireInstantView[];
}
