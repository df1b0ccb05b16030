import { Injectable } from '@nestjs/common';
import { newId } from '@app/contracts';
import { DEFAULT_PAGE_LIMIT, type JobView, type Page } from '@app/contracts/dto/scheduler-api';
import { JobNotFoundError, JobStore, TaskStore, jobTaskSubmission } from '@app/store';
import { isPlanCurrent, recordOf, type CatalogEntry } from '../../catalog/catalog-entry';
import { pageOf } from '../../catalog/catalog-page';
import { JobCatalog } from '../../catalog/job-catalog';
import { CreateJobDto, type UpdateJobDto } from '../dto/job.dto';
import { validateInput, type ApiError } from '@app/common/api';
import { toApiError } from '../errors/to-api-error';
import type { ListJobsQueryDto } from '../dto/query.dto';
import { jobSpecOf, patchedJobSpec } from '../mapping/specs';
import { jobView, nextFireAt } from '../mapping/views';
import { JobLimit } from '../limits/job-limit';
import { LiveTaskLimit } from '../limits/live-task-limit';
import { callerName, checkOwner } from '../ownership';

/** One job of a batch: created, or the API's answer for it alone. */
export type CreatedJob = { job: JobView; error?: never } | { error: ApiError; job?: never };

/**
 * Job operations shared by the HTTP and gRPC controllers; inputs are validated
 * DTOs. Writes and single reads go to ZooKeeper; lists are served from this
 * replica's job view, once it holds every change committed before the request.
 */
@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobStore,
    private readonly tasks: TaskStore,
    private readonly catalog: JobCatalog,
    private readonly limit: JobLimit,
    private readonly liveTasks: LiveTaskLimit,
  ) {}

  async create(job: CreateJobDto): Promise<JobView> {
    const record = await this.limit.admit(1, () => this.jobs.create(jobSpecOf(job), callerName()));
    // Ours to see at once (lists, the limit); the note brings it to the other replicas.
    this.catalog.record({ job: record, version: 0 });
    return jobView(record, undefined, Date.now());
  }

  /**
   * Each job validated and created on its own (their writes share
   * transactions): an item's error is what that job alone would have got.
   * Anything that is not an API answer (a bug) fails the whole request.
   */
  async createBatch<T>(
    jobs: readonly T[],
    toBody: (job: T) => unknown = (job) => job,
  ): Promise<CreatedJob[]> {
    return Promise.all(
      jobs.map(async (job): Promise<CreatedJob> => {
        try {
          return { job: await this.create(validateInput(CreateJobDto, toBody(job))) };
        } catch (error) {
          const answer = toApiError(error);
          if (!answer) throw error;
          return { error: answer };
        }
      }),
    );
  }

  async get(id: string): Promise<JobView> {
    const found = await this.jobs.get(id);
    if (!found) throw new JobNotFoundError(id);
    return jobView(found.record, found.state, Date.now());
  }

  async list(query: ListJobsQueryDto): Promise<Page<JobView>> {
    await this.catalog.catchUp();
    const page = pageOf(
      this.catalog.values(),
      query.cursor,
      query.limit ?? DEFAULT_PAGE_LIMIT,
      query.name,
    );
    const now = Date.now();
    const items = await Promise.all(page.entries.map((entry) => this.viewOf(entry, now)));
    return {
      items: items.filter((item): item is JobView => item !== undefined),
      nextCursor: page.next ?? null,
    };
  }

  async update(id: string, patch: UpdateJobDto): Promise<JobView> {
    const { record, version, state } = await this.jobs.update(id, (current) =>
      patchedJobSpec(current, patch),
    );
    this.catalog.record({ job: record, version });
    return jobView(record, state, Date.now());
  }

  async delete(id: string): Promise<void> {
    await this.jobs.delete(id);
    this.catalog.record({ deleted: id });
  }

  /**
   * Submits one task of the job now, whatever its schedule or pause. A
   * submitter triggers only jobs its token owns (checkOwner); the task is the
   * caller's.
   */
  async trigger(id: string): Promise<{ taskId: string }> {
    const found = await this.jobs.get(id);
    if (!found) throw new JobNotFoundError(id);
    const job = found.record;
    checkOwner(`job ${id}`, job.owner);
    const owner = callerName();
    const [task] = await this.liveTasks.admit(1, () =>
      // A trigger's task belongs to whoever triggered it, not to the job's owner.
      this.tasks.submit([
        {
          ...jobTaskSubmission(job),
          id: `${id}@manual-${newId()}`,
          owner,
        },
      ]),
    );
    return { taskId: task.id };
  }

  /** From the entry; a job whose template is too large to keep is read (undefined: gone meanwhile). */
  private async viewOf(entry: CatalogEntry, now: number): Promise<JobView | undefined> {
    const record = recordOf(entry);
    if (!record) {
      const found = await this.jobs.get(entry.id);
      return found && jobView(found.record, found.state, now);
    }
    // The entry's due instant is the next fire when it is still ahead (no schedule to parse).
    const known =
      !entry.paused && !isPlanCurrent(entry) && entry.dueAt > now ? entry.dueAt : undefined;
    return jobView(record, entry.state, now, known ?? nextFireAt(record, entry.state, now));
  }
}
