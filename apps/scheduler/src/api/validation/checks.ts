import { LABEL_KEY, LABEL_VALUE } from '@app/common';
/**
 * The rules of the API's fields as pure checks: each returns the reason a value
 * is wrong (completing "<field> …", e.g. "must be an integer ≥ 1"), or undefined
 * when it is fine. The DTO decorators are built from these, so HTTP and gRPC
 * give the same answers.
 */
import { CONCURRENCY_POLICIES, MISFIRE_POLICIES, TASK_STATES } from '@app/contracts';
import { MAX_PAYLOAD_BYTES } from '@app/contracts/dto/scheduler-api';
import { CronSchedule, InvalidScheduleError, isValidTimeZone } from '../../timing/cron-schedule';

import { integerIn, oneOf, parseIsoDateTime, type Check } from '@app/common/api';

// The generic checks are shared with the registry's API (@app/common/api).
export { integerIn, oneOf, type Check };

export const LIMITS = {
  nameLength: 200,
  typeLength: 100,
  scheduleLength: 200,
  idempotencyKeyLength: 200,
  maxAttempts: 1_000,
  /** One day. */
  backoffMs: 86_400_000,
  /** Seven days. */
  timeoutMs: 604_800_000,
  parallelism: 1_000,
  labels: 64,
  /** A one-off `runAt` at most one year ahead: a task waiting longer is a way to fill ZooKeeper. */
  runAtHorizonMs: 366 * 86_400_000,
} as const;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** `String.prototype.isWellFormed` is ES2024: the same test by hand. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string of `min..max` characters, well-formed Unicode. */
function text(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length < min || value.length > max) {
    return min === max ? `must be ${min} characters` : `must be ${min} to ${max} characters long`;
  }
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

export const checkBoolean: Check = (value) =>
  typeof value === 'boolean' ? undefined : 'must be true or false';

export const checkObject: Check = (value) =>
  isPlainObject(value) ? undefined : 'must be a JSON object';

export const checkJobName: Check = (value) => {
  const problem = text(value, 1, LIMITS.nameLength);
  if (problem) return problem;
  const name = value as string;
  if (CONTROL_CHARACTERS.test(name)) return 'must not contain control characters';
  if (name.trim() !== name) return 'must not start or end with whitespace';
  return undefined;
};

const HANDLER_NAME = /^[A-Za-z][A-Za-z0-9._:/-]*$/;

export const checkTaskType: Check = (value) => {
  const problem = text(value, 1, LIMITS.typeLength);
  if (problem) return problem;
  return HANDLER_NAME.test(value as string)
    ? undefined
    : 'must be a handler name: a letter, then letters, digits or . _ : / -';
};

/** Any JSON value; its JSON encoding at most MAX_PAYLOAD_BYTES (a 413 when over). */
export const checkPayloadSize: Check = (value) => {
  const bytes = jsonBytes(value);
  return bytes > MAX_PAYLOAD_BYTES
    ? `must be at most ${MAX_PAYLOAD_BYTES} bytes as JSON (got ${bytes})`
    : undefined;
};

function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  // Most payloads are small: skip the exact UTF-8 count when it cannot matter.
  if (json === undefined) return 0;
  if (json.length * 3 <= MAX_PAYLOAD_BYTES) return json.length;
  return Buffer.byteLength(json, 'utf8');
}

export const checkRunAt: Check = (value) => {
  const at = typeof value === 'string' ? parseIsoDateTime(value) : undefined;
  if (at === undefined) {
    return 'must be an ISO 8601 date-time with an offset, e.g. 2030-01-01T09:00:00Z';
  }
  if (at > Date.now() + LIMITS.runAtHorizonMs) return 'must be at most one year from now';
  return undefined;
};

export const checkTimezone: Check = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  return isValidTimeZone(value)
    ? undefined
    : 'must be an IANA time zone such as UTC or Europe/Paris';
};

/** The cron expression, read in the sibling `timezone` (UTC when absent). */
export const checkCron: Check = (value, target) => {
  const problem = text(value, 1, LIMITS.scheduleLength);
  if (problem) return problem;
  const timezone = target.timezone ?? 'UTC';
  // A bad time zone is reported on its own field.
  if (typeof timezone !== 'string' || !isValidTimeZone(timezone)) return undefined;
  try {
    CronSchedule.parse(value as string, timezone);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidScheduleError) {
      return error.field === 'schedule' ? error.reason : undefined;
    }
    throw error;
  }
};

/** A new job: exactly one of `schedule` and `runAt`, then a valid cron expression. */
export const checkJobSchedule: Check = (value, target) => {
  if (value === undefined) {
    return target.runAt === undefined
      ? 'is required unless runAt is given: give exactly one of schedule (cron) or runAt'
      : undefined;
  }
  if (target.runAt !== undefined) {
    return 'cannot be combined with runAt: give exactly one of schedule (cron) or runAt';
  }
  return checkCron(value, target);
};

export const checkIdempotencyKey: Check = (value) => {
  const problem = text(value, 1, LIMITS.idempotencyKeyLength);
  if (problem) return problem;
  // A key is an identifier (and the history, PostgreSQL, could not hold a NUL).
  return CONTROL_CHARACTERS.test(value as string)
    ? 'must not contain control characters'
    : undefined;
};

export const checkLabels: Check = (value) => {
  if (!isPlainObject(value)) return 'must be a JSON object of label names to values';
  const entries = Object.entries(value);
  if (entries.length > LIMITS.labels) return `must hold at most ${LIMITS.labels} labels`;
  for (const [key, labelValue] of entries) {
    if (!LABEL_KEY.test(key)) {
      return `has an invalid label name "${key}" (letters, digits, . _ / -; at most 63 characters)`;
    }
    if (typeof labelValue !== 'string' || !LABEL_VALUE.test(labelValue)) {
      return `has an invalid value for ${key} (a string of letters, digits, . _ -; at most 63 characters)`;
    }
  }
  return undefined;
};

export const checkTaskState = oneOf(TASK_STATES);
export const checkConcurrency = oneOf(CONCURRENCY_POLICIES);
export const checkMisfire = oneOf(MISFIRE_POLICIES);
export const checkMaxAttempts = integerIn(1, LIMITS.maxAttempts);
export const checkBackoffMs = integerIn(0, LIMITS.backoffMs);
export const checkTimeoutMs = integerIn(1, LIMITS.timeoutMs);
export const checkParallelism = integerIn(1, LIMITS.parallelism);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Task ids: a UUID, or `<jobId>@<fire time>` / `<jobId>@manual-<uuid>` for a job's
// tasks. Anything else (`/`, `..`, control characters) never reaches ZooKeeper.
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

export const checkJobId: Check = (value) =>
  typeof value === 'string' && UUID.test(value) ? undefined : 'must be a job id (a UUID)';

export const checkTaskId: Check = (value) =>
  typeof value === 'string' && TASK_ID.test(value)
    ? undefined
    : 'must be a task id (letters, digits and . _ : @ -, at most 200 characters)';

/** A batch of `item`s (task, job): 1 to `max` JSON objects; each item is checked on its own. */
export function checkBatch(item: string, max: number): Check {
  return (value) => {
    if (!Array.isArray(value)) return `must be an array of ${item}s`;
    if (value.length === 0) return `must hold at least 1 ${item}`;
    if (value.length > max) {
      return `must hold at most ${max} ${item}s (got ${value.length}): split the batch`;
    }
    // Here rather than per item: class-validator would validate an array item as
    // a list (and pass an empty one).
    const bad = value.findIndex(
      (item) => typeof item !== 'object' || item === null || Array.isArray(item),
    );
    return bad < 0 ? undefined : `must hold only JSON objects (item ${bad} is not)`;
  };
}
