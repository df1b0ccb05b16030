import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DEFAULT_PAGE_LIMIT, type JobView, type Page } from '@app/contracts/dto/scheduler-api';
import { JobNotFoundError, JobStore, TaskStore, jobTaskSubmission } from '@app/store';
import type { CreateJobDto, UpdateJobDto } from '../dto/job.dto';
import type { ListJobsQueryDto } from '../dto/query.dto';
import { jobSpecOf, patchedJobSpec } from '../mapping/specs';
import { jobView } from '../mapping/views';
import { JobLimit } from '../limits/job-limit';
import { LiveTaskLimit } from '../limits/live-task-limit';
import { callerName, checkOwner } from '../ownership';

/** Job operations shared by the HTTP and gRPC controllers; inputs are validated DTOs. */
@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobStore,
    private readonly tasks: TaskStore,
    private readonly limit: JobLimit,
    private readonly liveTasks: LiveTaskLimit,
  ) {}

  async create(job: CreateJobDto): Promise<JobView> {
    await this.limit.checkRoomForOne();
    const record = await this.jobs.create(jobSpecOf(job), callerName());
    return jobView(record, undefined, Date.now());
  }

  async get(id: string): Promise<JobView> {
    const found = await this.jobs.get(id);
    if (!found) throw new JobNotFoundError(id);
    return jobView(found.record, found.state, Date.now());
  }

  async list(query: ListJobsQueryDto): Promise<Page<JobView>> {
    const { jobs, next } = await this.jobs.list(query.cursor, query.limit ?? DEFAULT_PAGE_LIMIT);
    const now = Date.now();
    return {
      items: jobs.map((job) => jobView(job.record, job.state, now)),
      nextCursor: next ?? null,
    };
  }

  async update(id: string, patch: UpdateJobDto): Promise<JobView> {
    const record = await this.jobs.update(id, (current) => patchedJobSpec(current, patch));
    // The leader's state (lastFireAt) lives beside the definition.
    const state = (await this.jobs.get(id))?.state;
    return jobView(record, state, Date.now());
  }

  delete(id: string): Promise<void> {
    return this.jobs.delete(id);
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
          id: `${id}@manual-${randomUUID()}`,
          owner,
        },
      ]),
    );
    return { taskId: task.id };
  }
}
