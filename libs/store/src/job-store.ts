import {
  BadVersionError,
  NoNodeError,
  NodeExistsError,
  Op,
  type ZkClient,
  type ZkOp,
} from '@app/zk';
import {
  ZkLayout,
  newId,
  type JobRecord,
  type JobSpec,
  type JobState,
  type AuditEventType,
} from '@app/contracts';
import type { AuditWriter } from './audit-writer';
import { decodeJson, encodeJson } from './json-codec';
import type { WriteBatcher } from './write-batcher';
import { jobChanges } from './job-changes';

export interface VersionedJob {
  record: JobRecord;
  version: number;
  state?: JobState;
}

export class JobNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`job ${id} not found`);
    this.name = 'JobNotFoundError';
  }
}

export class DuplicateJobNameError extends Error {
  constructor(readonly jobName: string) {
    super(`a job named '${jobName}' already exists`);
    this.name = 'DuplicateJobNameError';
  }
}

/**
 * Jobs as the API writes and reads them. Names are unique through `/jobnames`,
 * in the same transaction; every write also appends its JobChange to the job
 * change log (the replicas' job views follow it; listing is theirs).
 */
export class JobStore {
  constructor(
    private readonly client: ZkClient,
    private readonly writes: WriteBatcher,
    private readonly audit: AuditWriter,
    private readonly now: () => number = Date.now,
  ) {}

  /** `owner`: the creating token's name (JobRecord.owner), kept by every update. */
  async create(spec: JobSpec, owner?: string): Promise<JobRecord> {
    const now = this.now();
    const record: JobRecord = {
      ...spec,
      id: newId(),
      ...(owner === undefined ? {} : { owner }),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.writes.submit({
        ops: [
          Op.create(ZkLayout.jobName(record.name), record.id),
          Op.create(ZkLayout.job(record.id), encodeJson(record)),
        ],
        events: [
          this.audit.event('job.created', { jobId: record.id, detail: { name: record.name } }),
        ],
        jobChanges: [{ job: record, version: 0 }],
      });
    } catch (error) {
      if (error instanceof NodeExistsError && error.opIndex === 0)
        throw new DuplicateJobNameError(spec.name);
      throw error;
    }
    return record;
  }

  async get(id: string): Promise<VersionedJob | undefined> {
    let found: { data: Buffer; stat: { version: number } };
    try {
      found = await this.client.get(ZkLayout.job(id));
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    return {
      record: decodeJson<JobRecord>(found.data),
      version: found.stat.version,
      state: await this.state(id),
    };
  }

  /**
   * Replaces the definition with `change(current)`, compare-and-set on the
   * znode version (retried when someone else wrote in between).
   */
  async update(id: string, change: (current: JobRecord) => JobSpec): Promise<VersionedJob> {
    for (;;) {
      const current = await this.get(id);
      if (!current) throw new JobNotFoundError(id);
      const spec = change(current.record);
      // The new definition replaces the old one whole: a field left out is gone.
      const next: JobRecord = {
        ...spec,
        id: current.record.id,
        ...(current.record.owner === undefined ? {} : { owner: current.record.owner }),
        createdAt: current.record.createdAt,
        updatedAt: this.now(),
      };
      const ops: ZkOp[] = [Op.set(ZkLayout.job(id), encodeJson(next), current.version)];
      const renamed = next.name !== current.record.name;
      if (renamed) {
        ops.push(
          Op.delete(ZkLayout.jobName(current.record.name)),
          Op.create(ZkLayout.jobName(next.name), id),
        );
      }
      try {
        await this.writes.submit({
          ops,
          events: [
            this.audit.event(updateEventType(current.record, next), {
              jobId: id,
              detail: { changed: jobChanges(current.record, next) },
            }),
          ],
          jobChanges: [{ job: next, version: current.version + 1 }],
        });
        return { record: next, version: current.version + 1, state: current.state };
      } catch (error) {
        if (error instanceof BadVersionError && error.opIndex === 0) continue;
        if (error instanceof NoNodeError && error.opIndex === 0) throw new JobNotFoundError(id);
        if (error instanceof NodeExistsError && renamed) throw new DuplicateJobNameError(next.name);
        throw error;
      }
    }
  }

  async delete(id: string): Promise<void> {
    for (;;) {
      const current = await this.get(id);
      if (!current) throw new JobNotFoundError(id);
      const ops: ZkOp[] = [
        Op.delete(ZkLayout.job(id), current.version),
        Op.delete(ZkLayout.jobName(current.record.name)),
      ];
      if (current.state) ops.push(Op.delete(ZkLayout.jobState(id)));
      try {
        await this.writes.submit({
          ops,
          events: [this.audit.event('job.deleted', { jobId: id })],
          jobChanges: [{ deleted: id }],
        });
        return;
      } catch (error) {
        // Changed meanwhile (an update, or the leader created its state): look again.
        if (
          error instanceof BadVersionError ||
          error instanceof NoNodeError ||
          error instanceof NodeExistsError
        ) {
          continue;
        }
        throw error;
      }
    }
  }

  private async state(id: string): Promise<JobState | undefined> {
    try {
      return decodeJson<JobState>((await this.client.get(ZkLayout.jobState(id))).data);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }
}

function updateEventType(before: JobRecord, after: JobRecord): AuditEventType {
  if (!before.paused && after.paused) return 'job.paused';
  if (before.paused && !after.paused) return 'job.resumed';
  return 'job.updated';
}
