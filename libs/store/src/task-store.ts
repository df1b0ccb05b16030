import {
  NoNodeError,
  NodeExistsError,
  NotLeaderError,
  sortBySequence,
  type ZkClient,
} from '@app/zk';
import {
  DEFAULT_RETRY,
  ZkLayout,
  isTerminal,
  newId,
  taskTemplateOf,
  type AuditEvent,
  type JobRecord,
  type RetrySpec,
  type Selector,
  type TaskRecord,
  type TaskState,
} from '@app/contracts';
import type { AuditWriter } from './audit-writer';
import { cancelledEvent } from './task-events';
import { holdersOf, toCancelled } from './task-transitions';
import { TaskWrites, assignmentWrites, createTaskOps, type VersionedTask } from './task-writes';
import type { WriteBatcher } from './write-batcher';

export interface TaskSubmission {
  type: string;
  payload: unknown;
  runAt?: number;
  idempotencyKey?: string;
  retry?: RetrySpec;
  timeoutMs?: number;
  selector?: Selector;
  parallelism?: number;
  jobId?: string;
  /** Deterministic id (a job fire); default a new UUID. */
  id?: string;
  /** The submitting token's name (TaskRecord.owner). */
  owner?: string;
  fireTime?: number;
}

export interface SubmittedTask {
  id: string;
  state: TaskState;
  /** True when the idempotency key matched a task submitted before. */
  existing: boolean;
}

export interface TaskFilter {
  jobId?: string;
  state?: TaskState;
  /** Ids sort by name; the page starts after this id. */
  after?: string;
  limit: number;
}

/**
 * The leader running in the submitting process, while it leads: a new task is
 * written through its fenced writer and handed to its dispatcher in memory, so
 * it needs no queue note (no watch, listing and read before its assignment).
 * Safe because the write is fenced: it lands only while this leader leads, and
 * a later leader reads every task when elected.
 */
export interface LocalLeader {
  /** The term's fenced writer: refuses (NotLeaderError) once the term is over. */
  readonly writes: WriteBatcher;
  /** Takes a task this process has just created (version 0). */
  adopt(record: TaskRecord): void;
  /**
   * A worker for a task about to be created, when one has room now and no
   * other task is waiting: the slot is held until `settle`.
   */
  place(record: TaskRecord): Placement | undefined;
}

/** A new task given to workers in the transaction that creates it (protocol steps 1 and 2 at once). */
export interface Placement {
  /** The record to create: already assigned. */
  record: TaskRecord;
  workers: string[];
  /** The leader's `task.assigned` (with its fencing token). */
  events: AuditEvent[];
  /** Whether the creation landed; on any failure the slot is given back and the task read if it might exist. */
  settle(outcome: { written: true } | { written: false; error: unknown }): void;
}

/** Task records one list call reads at most (a filter on state may match few of them). */
export const MAX_TASKS_EXAMINED = 5_000;

export class TaskNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`task ${id} not found`);
    this.name = 'TaskNotFoundError';
  }
}

export class TaskAlreadyFinishedError extends Error {
  constructor(
    readonly id: string,
    readonly state: TaskState,
  ) {
    super(`task ${id} already ${state}`);
    this.name = 'TaskAlreadyFinishedError';
  }
}

/** A task of `job` (a fire): its handler, payload, policies and owner. */
export function jobTaskSubmission(job: JobRecord): TaskSubmission {
  return {
    jobId: job.id,
    ...taskTemplateOf(job),
    ...(job.owner === undefined ? {} : { owner: job.owner }),
  };
}

/** Builds a new pending task record. */
export function newTaskRecord(submission: TaskSubmission, now: number): TaskRecord {
  return {
    id: submission.id ?? newId(),
    ...(submission.jobId === undefined ? {} : { jobId: submission.jobId }),
    ...(submission.fireTime === undefined ? {} : { fireTime: submission.fireTime }),
    type: submission.type,
    payload: submission.payload,
    state: 'pending',
    attempt: 0,
    failures: 0,
    retry: submission.retry ?? DEFAULT_RETRY,
    ...(submission.timeoutMs === undefined ? {} : { timeoutMs: submission.timeoutMs }),
    ...(submission.selector === undefined ? {} : { selector: submission.selector }),
    parallelism: submission.parallelism ?? 1,
    ...(submission.idempotencyKey === undefined
      ? {}
      : { idempotencyKey: submission.idempotencyKey }),
    ...(submission.owner === undefined ? {} : { owner: submission.owner }),
    runAt: submission.runAt ?? now,
    createdAt: now,
  };
}

/**
 * Tasks as the API sees them: submit (with idempotency keys), read, list, cancel.
 * Every write carries its audit events; new tasks notify the leader through the
 * queue in the same transaction.
 */
export class TaskStore {
  private readonly tasks: TaskWrites;

  constructor(
    private readonly client: ZkClient,
    private readonly writes: WriteBatcher,
    private readonly audit: AuditWriter,
    private readonly now: () => number = Date.now,
  ) {
    this.tasks = new TaskWrites(client, writes);
  }

  /**
   * Submits tasks, in order; a repeated idempotency key returns the earlier task.
   * `leader`: this process's leader, asked at each write, if it leads.
   */
  submit(
    submissions: readonly TaskSubmission[],
    leader?: () => LocalLeader | undefined,
  ): Promise<SubmittedTask[]> {
    return Promise.all(submissions.map((submission) => this.submitOne(submission, leader)));
  }

  get(id: string): Promise<VersionedTask | undefined> {
    return this.tasks.read(id);
  }

  /**
   * A page of live tasks (ZooKeeper holds live and recently finished ones), by
   * id. Reads at most MAX_TASKS_EXAMINED records per call, however rare the
   * filter's matches: then the page may be short, with `next` where it stopped.
   */
  async list(filter: TaskFilter): Promise<{ tasks: TaskRecord[]; next?: string }> {
    const { children } = await this.client.children(ZkLayout.tasks);
    const names = children
      .filter((name) => filter.jobId === undefined || name.startsWith(`${filter.jobId}@`))
      .filter((name) => filter.after === undefined || name > filter.after)
      .sort();
    const tasks: TaskRecord[] = [];
    let index = 0;
    // Read in pages of the limit: reads are pipelined, most pages need one round.
    while (index < names.length && tasks.length < filter.limit && index < MAX_TASKS_EXAMINED) {
      const page = names.slice(index, index + Math.min(filter.limit, MAX_TASKS_EXAMINED - index));
      index += page.length;
      const found = await Promise.all(page.map((name) => this.get(name)));
      for (const [at, task] of found.entries()) {
        if (!task) continue;
        if (filter.jobId !== undefined && task.record.jobId !== filter.jobId) continue;
        if (filter.state !== undefined && task.record.state !== filter.state) continue;
        tasks.push(task.record);
        if (tasks.length === filter.limit) {
          index += at + 1 - page.length;
          break;
        }
      }
    }
    return index < names.length ? { tasks, next: names[index - 1] } : { tasks };
  }

  /**
   * Cancels a task that has not finished. A task with a worker loses its
   * assignment in the same transaction: the worker aborts it, and any late
   * report of the worker fails its version check.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<TaskRecord> {
    const make = this.audit.event.bind(this.audit);
    const outcome = await this.tasks.update(id, ({ record, version }) => {
      if (isTerminal(record.state)) throw new TaskAlreadyFinishedError(id, record.state);
      return {
        from: { record, version },
        next: toCancelled(record, reason, this.now()),
        events: [cancelledEvent(make, record, reason)],
        release: holdersOf(record),
        notify: true,
      };
    });
    if (outcome.kind === 'written') return outcome.task.record;
    if (outcome.kind === 'gone') throw new TaskNotFoundError(id);
    throw new Error(`cancel of task ${id}: unexpected outcome ${outcome.kind}`);
  }

  private async submitOne(
    submission: TaskSubmission,
    localLeader?: () => LocalLeader | undefined,
  ): Promise<SubmittedTask> {
    let leader = localLeader?.();
    for (;;) {
      const created = newTaskRecord(submission, this.now());
      // A worker with room now: the task is created already assigned to it (one write, not two).
      const placement = leader?.place(created);
      const record = placement?.record ?? created;
      const json = JSON.stringify(record);
      const given = placement ? assignmentWrites(record, json, 0, placement.workers) : undefined;
      try {
        await (leader?.writes ?? this.writes).submit({
          ops: [...createTaskOps(record, json), ...(given?.ops ?? [])],
          // The record rides in the queue note: the leader need not read it.
          ...(leader ? {} : { notify: [{ version: 0, json }] }),
          ...(given ? { assignmentNotes: given.notes } : {}),
          events: [
            this.audit.event('task.created', {
              taskId: record.id,
              jobId: record.jobId,
              detail: { type: record.type, runAt: record.runAt },
            }),
            ...(placement?.events ?? []),
          ],
        });
        if (placement) placement.settle({ written: true });
        else leader?.adopt(record);
        return { id: record.id, state: record.state, existing: false };
      } catch (error) {
        placement?.settle({ written: false, error });
        if (leader && error instanceof NotLeaderError) {
          // The term ended before the write landed (a refused fence writes nothing): the usual way.
          leader = undefined;
          continue;
        }
        const key = record.idempotencyKey;
        if (!(error instanceof NodeExistsError && error.opIndex === 1 && key !== undefined))
          throw error;
        const existing = await this.existingFor(key, record.owner);
        // The key's task was removed meanwhile (retention): the key is free again.
        if (existing) return existing;
      }
    }
  }

  private async existingFor(key: string, owner?: string): Promise<SubmittedTask | undefined> {
    try {
      const { data } = await this.client.get(ZkLayout.idempotency(key, owner));
      const id = data.toString('utf8');
      const task = await this.get(id);
      return task && { id, state: task.record.state, existing: true };
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }
}

/** Queue entries the leader has not read yet, oldest first. */
export async function readQueueEntries(client: ZkClient): Promise<string[]> {
  const { children } = await client.children(ZkLayout.queue);
  return sortBySequence(children);
}
