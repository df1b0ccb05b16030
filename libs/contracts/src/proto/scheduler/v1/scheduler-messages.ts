/**
 * The messages of `scheduler.proto` as `@grpc/proto-loader` delivers them with
 * PROTO_LOADER_OPTIONS (camelCase, unset optional fields undefined). Written by
 * hand: keep in step with the .proto file.
 */

export interface RetryPolicyMessage {
  maxAttempts?: number;
  backoffMs?: number;
}

export interface SelectorMessage {
  labels?: Record<string, string>;
}

export interface JobFieldsMessage {
  name?: string;
  type?: string;
  payloadJson?: string;
  schedule?: string;
  timezone?: string;
  runAt?: string;
  retry?: RetryPolicyMessage;
  timeoutMs?: number;
  concurrency?: string;
  misfire?: string;
  selector?: SelectorMessage;
  parallelism?: number;
  paused?: boolean;
}

export type CreateJobRequest = JobFieldsMessage;

export interface UpdateJobRequest extends JobFieldsMessage {
  id?: string;
  clearFields?: string[];
}

export interface IdRequest {
  id?: string;
}

export type GetJobRequest = IdRequest;
export type DeleteJobRequest = IdRequest;
export type TriggerJobRequest = IdRequest;
export type GetTaskRequest = IdRequest;
export type CancelTaskRequest = IdRequest;

export interface PreviewJobRequest {
  schedule?: string;
  timezone?: string;
  runAt?: string;
  count?: number;
  after?: string;
}

export interface PreviewJobResponse {
  timezone: string;
  instants: Array<{ at: string; local: string }>;
}

export interface ListJobsRequest {
  cursor?: string;
  limit?: number;
  name?: string;
}

export interface JobMessage {
  id: string;
  name: string;
  type: string;
  payloadJson: string;
  schedule?: string;
  timezone: string;
  runAt?: string;
  retry: RetryPolicyMessage;
  timeoutMs?: number;
  concurrency: string;
  misfire: string;
  selector?: SelectorMessage;
  parallelism: number;
  paused: boolean;
  createdAt: string;
  updatedAt: string;
  nextFireAt?: string;
  lastFireAt?: string;
}

export interface CreateJobsRequest {
  jobs?: CreateJobRequest[];
}

export interface FieldErrorMessage {
  field: string;
  reason: string;
}

/** Why one job of a batch was not created: its gRPC status code, message and fields. */
export interface JobErrorMessage {
  code: number;
  message: string;
  errors: FieldErrorMessage[];
}

export interface CreatedJobMessage {
  job?: JobMessage;
  error?: JobErrorMessage;
}

export interface CreateJobsResponse {
  items: CreatedJobMessage[];
}

export interface ListJobsResponse {
  items: JobMessage[];
  nextCursor?: string;
}

export type DeleteJobResponse = Record<string, never>;

export interface TriggerJobResponse {
  taskId: string;
}

export interface SubmitTaskRequest {
  type?: string;
  payloadJson?: string;
  runAt?: string;
  idempotencyKey?: string;
  retry?: RetryPolicyMessage;
  timeoutMs?: number;
  selector?: SelectorMessage;
  parallelism?: number;
}

export interface SubmittedTaskMessage {
  id: string;
  state: string;
}

export interface SubmitTasksRequest {
  tasks?: SubmitTaskRequest[];
}

export interface SubmitTasksResponse {
  items: SubmittedTaskMessage[];
}

export interface TaskErrorMessage {
  code: string;
  message: string;
}

export interface TaskMessage {
  id: string;
  jobId?: string;
  type: string;
  payloadJson: string;
  state: string;
  attempt: number;
  failures: number;
  retry: RetryPolicyMessage;
  timeoutMs?: number;
  selector?: SelectorMessage;
  parallelism: number;
  idempotencyKey?: string;
  runAt: string;
  fireTime?: string;
  workerId?: string;
  workers: string[];
  createdAt: string;
  assignedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  retryAt?: string;
  resultJson?: string;
  error?: TaskErrorMessage;
}

export interface ListTasksRequest {
  jobId?: string;
  state?: string;
  cursor?: string;
  limit?: number;
}

export interface ListTasksResponse {
  items: TaskMessage[];
  nextCursor?: string;
}

export interface WebhookFilterMessage {
  jobId?: string;
  taskType?: string;
}

export interface CreateWebhookRequest {
  url?: string;
  events?: string[];
  secret?: string;
  filter?: WebhookFilterMessage;
}

export interface WebhookMessage {
  id: string;
  url: string;
  events: string[];
  filter?: WebhookFilterMessage;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export interface ListWebhooksRequest {
  cursor?: string;
  limit?: number;
}

export interface ListWebhooksResponse {
  items: WebhookMessage[];
  nextCursor?: string;
}

export interface UpdateWebhookRequest {
  id?: string;
  url?: string;
  events?: string[];
  secret?: string;
  filter?: WebhookFilterMessage;
  clearFilter?: boolean;
}

export interface ListWebhookDeliveriesRequest {
  id?: string;
  cursor?: string;
  limit?: number;
}

export interface WebhookDeliveryMessage {
  eventId: string;
  type: string;
  state: string;
  attempts: number;
  occurredAt: string;
  queuedAt: string;
  lastAttemptAt?: string;
  lastStatus?: number;
  lastError?: string;
  nextAttemptAt?: string;
  finishedAt?: string;
}

export interface ListWebhookDeliveriesResponse {
  items: WebhookDeliveryMessage[];
  nextCursor?: string;
}

export interface TestWebhookResponse {
  eventId: string;
}
