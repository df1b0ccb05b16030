import type { JobRecord, JobState, TaskRecord } from '@app/contracts';
import type { JobView, SubmittedTaskView, TaskView } from '@app/contracts/dto/scheduler-api';
import type { SubmittedTask } from '@app/store';
import { CronSchedule } from '../../timing/cron-schedule';
import { toIso, toIsoOrNull } from '@app/common/api';

/**
 * The next fire: none while paused; else the leader's plan when it has one;
 * else what the leader will compute (the schedule's next instant, or `runAt`
 * for a one-off job that has not fired).
 */
export function nextFireAt(
  job: JobRecord,
  state: JobState | undefined,
  now: number,
): number | null {
  if (job.paused) return null;
  // The leader's plan counts only if it was made from this version of the job.
  if (state && state.jobUpdatedAt === job.updatedAt) return state.nextFireAt;
  const after = Math.max(now, state?.lastFireAt ?? -Infinity);
  if (job.schedule !== undefined) {
    try {
      return CronSchedule.parse(job.schedule, job.timezone).next(after);
    } catch {
      // Stored by an older version with other rules: it has no next fire here.
      return null;
    }
  }
  if (job.runAt === undefined) return null;
  return state?.lastFireAt !== undefined && state.lastFireAt >= job.runAt ? null : job.runAt;
}

/**
 * `next`, when given, is the next fire already known (a job view entry's due
 * instant); else it is computed as `nextFireAt` says.
 */
export function jobView(
  job: JobRecord,
  state: JobState | undefined,
  now: number,
  next: number | null = nextFireAt(job, state, now),
): JobView {
  return {
    id: job.id,
    name: job.name,
    type: job.type,
    payload: job.payload,
    schedule: job.schedule ?? null,
    timezone: job.timezone,
    runAt: toIsoOrNull(job.runAt),
    retry: { maxAttempts: job.retry.maxAttempts, backoffMs: job.retry.backoffMs },
    timeoutMs: job.timeoutMs ?? null,
    concurrency: job.concurrency,
    misfire: job.misfire,
    selector: job.selector ? { labels: { ...job.selector.labels } } : null,
    parallelism: job.parallelism,
    paused: job.paused,
    createdAt: toIso(job.createdAt),
    updatedAt: toIso(job.updatedAt),
    nextFireAt: toIsoOrNull(next),
    lastFireAt: toIsoOrNull(state?.lastFireAt),
  };
}

export function taskView(task: TaskRecord): TaskView {
  return {
    id: task.id,
    jobId: task.jobId ?? null,
    type: task.type,
    payload: task.payload,
    state: task.state,
    attempt: task.attempt,
    failures: task.failures,
    retry: { maxAttempts: task.retry.maxAttempts, backoffMs: task.retry.backoffMs },
    timeoutMs: task.timeoutMs ?? null,
    selector: task.selector ? { labels: { ...task.selector.labels } } : null,
    parallelism: task.parallelism,
    idempotencyKey: task.idempotencyKey ?? null,
    runAt: toIso(task.runAt),
    fireTime: toIsoOrNull(task.fireTime),
    workerId: task.workerId ?? null,
    workers: task.workers ?? (task.workerId ? [task.workerId] : []),
    createdAt: toIso(task.createdAt),
    assignedAt: toIsoOrNull(task.assignedAt),
    startedAt: toIsoOrNull(task.startedAt),
    finishedAt: toIsoOrNull(task.finishedAt),
    retryAt: toIsoOrNull(task.retryAt),
    result: task.result ?? null,
    error: task.error ? { code: task.error.code, message: task.error.message } : null,
  };
}

export function submittedView(task: SubmittedTask): SubmittedTaskView {
  return { id: task.id, state: task.state };
}
