import { NoNodeError, Op, type ZkClient, type ZkOp } from '@app/zk';
import {
  ZkLayout,
  fireTaskId,
  taskTemplateOf,
  type AuditEvent,
  type JobRecord,
  type JobState,
  type TaskRecord,
  type TaskTemplate,
} from '@app/contracts';
import { createTaskOps, decodeJson, encodeJson, newTaskRecord } from '@app/store';
import type { CatalogEntry } from '../catalog/catalog-entry';
import type { LeaderContext } from '../leadership/leader-context';

/**
 * What one fire of a job writes, and the two reads it may need first (the
 * template when too large to keep in memory, the job state after a conflict).
 * Pure building of the fenced transaction; when and how often to fire, and
 * what to do when it is refused, stay in JobScheduler.
 */

export interface FireWrite {
  records: TaskRecord[];
  state: JobState;
  stateVersion: number;
  ops: ZkOp[];
  events: AuditEvent[];
}

/**
 * The transaction of a fire: the tasks of `instants`, the job state moved to
 * `lastFireAt`/`nextFireAt`, and a check that the job still exists (its op is
 * the last, at index `records.length + 1`).
 */
export function buildFireWrite(
  entry: CatalogEntry,
  template: TaskTemplate | undefined,
  instants: readonly number[],
  lastFireAt: number | undefined,
  nextFireAt: number | null,
  extraEvents: readonly AuditEvent[],
  event: LeaderContext['event'],
  now: number,
): FireWrite {
  const records = instants.map((instant) => fireRecord(entry, template!, instant, now));
  const state: JobState = {
    lastFireAt: lastFireAt ?? entry.state?.lastFireAt,
    nextFireAt,
    jobUpdatedAt: entry.updatedAt,
  };
  const stateVersion = entry.stateVersion;
  const stateOp: ZkOp =
    stateVersion < 0
      ? Op.create(ZkLayout.jobState(entry.id), encodeJson(state))
      : Op.set(ZkLayout.jobState(entry.id), encodeJson(state), stateVersion);
  const events = [
    ...extraEvents,
    ...records.map((record) =>
      event('task.created', {
        taskId: record.id,
        jobId: entry.id,
        detail: { fireTime: record.fireTime, type: record.type },
      }),
    ),
  ];
  const ops = [
    ...records.flatMap((record) => createTaskOps(record)),
    stateOp,
    // The job must still exist: a fire racing its deletion would leave
    // a `/jobstate` nobody deletes (and tasks of a deleted job).
    Op.check(ZkLayout.job(entry.id)),
  ];
  return { records, state, stateVersion, ops, events };
}

/** The task template from memory, or from the znode when it is too large to keep. */
export async function readTemplate(
  client: ZkClient,
  entry: CatalogEntry,
): Promise<TaskTemplate | undefined> {
  if (entry.template !== undefined) return JSON.parse(entry.template) as TaskTemplate;
  try {
    return decodeJson<JobRecord>((await client.get(ZkLayout.job(entry.id))).data);
  } catch (error) {
    if (error instanceof NoNodeError) return undefined;
    throw error;
  }
}

export async function readJobState(
  client: ZkClient,
  id: string,
): Promise<{ state: JobState; version: number } | undefined> {
  try {
    const { data, stat } = await client.get(ZkLayout.jobState(id));
    return { state: decodeJson<JobState>(data), version: stat.version };
  } catch (error) {
    if (error instanceof NoNodeError) return undefined;
    throw error;
  }
}

/** The task of a fire: the job's template, owned by the job's owner. */
function fireRecord(
  entry: CatalogEntry,
  job: TaskTemplate,
  instant: number,
  now: number,
): TaskRecord {
  return newTaskRecord(
    {
      id: fireTaskId(entry.id, instant),
      jobId: entry.id,
      fireTime: instant,
      runAt: instant,
      ...taskTemplateOf(job),
      ...(entry.owner === undefined ? {} : { owner: entry.owner }),
    },
    now,
  );
}
