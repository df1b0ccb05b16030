import { Controller, UseFilters, UseInterceptors } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcApiAuth, RequireRole, WriteCost, perItemOf } from '@app/common';
import { SCHEDULER_SERVICE_NAME } from '@app/contracts/proto';
import type {
  CancelTaskRequest,
  CreateJobRequest,
  CreateJobsRequest,
  CreateJobsResponse,
  DeleteJobRequest,
  DeleteJobResponse,
  GetJobRequest,
  GetTaskRequest,
  JobMessage,
  ListJobsRequest,
  ListJobsResponse,
  ListTasksRequest,
  ListTasksResponse,
  PreviewJobRequest,
  PreviewJobResponse,
  SubmitTaskRequest,
  SubmitTasksRequest,
  SubmitTasksResponse,
  SubmittedTaskMessage,
  TaskMessage,
  TriggerJobRequest,
  TriggerJobResponse,
  UpdateJobRequest,
} from '@app/contracts/proto/scheduler/v1/scheduler-messages';
import { ZooKeeperDeadlineInterceptor } from '../errors/zookeeper-deadline.interceptor';
import { CreateJobDto, CreateJobsDto, UpdateJobDto } from '../dto/job.dto';
import { ListJobsQueryDto, ListTasksQueryDto } from '../dto/query.dto';
import { PreviewJobDto } from '../dto/preview.dto';
import { previewFires } from '../preview/fire-preview';
import { SubmitTaskDto, SubmitTasksDto } from '../dto/task.dto';
import { JobsService } from '../jobs/jobs.service';
import { TasksService } from '../tasks/tasks.service';
import { checkJobId, checkTaskId } from '../validation/checks';
import { requireId } from '../validation/id-pipes';
import { validateInput } from '@app/common/api';
import { GrpcExceptionFilter } from './grpc-exception.filter';
import {
  createdJobMessage,
  jobBody,
  jobMessage,
  jobPatch,
  listJobsQuery,
  listTasksQuery,
  submittedMessage,
  taskBody,
  taskMessage,
} from './grpc-mapping';

const Rpc = (method: string): MethodDecorator => GrpcMethod(SCHEDULER_SERVICE_NAME, method);

/**
 * `zkscheduler.scheduler.v1.SchedulerService`: the HTTP API's operations over
 * gRPC, with the same validation (requests are turned into the HTTP shapes) and
 * the same services.
 */
@Controller()
@UseFilters(GrpcExceptionFilter)
@GrpcApiAuth()
@UseInterceptors(ZooKeeperDeadlineInterceptor)
export class SchedulerGrpcController {
  constructor(
    private readonly jobs: JobsService,
    private readonly tasks: TasksService,
  ) {}

  @Rpc('CreateJob')
  async createJob(request: CreateJobRequest): Promise<JobMessage> {
    return jobMessage(await this.jobs.create(validateInput(CreateJobDto, jobBody(request))));
  }

  @Rpc('CreateJobs')
  async createJobs(request: CreateJobsRequest): Promise<CreateJobsResponse> {
    const jobs = request.jobs ?? [];
    validateInput(CreateJobsDto, { jobs });
    // Each message is turned into the HTTP shape inside its own item: bad JSON is its error.
    return { items: (await this.jobs.createBatch(jobs, jobBody)).map(createdJobMessage) };
  }

  @Rpc('GetJob')
  async getJob(request: GetJobRequest): Promise<JobMessage> {
    return jobMessage(await this.jobs.get(requireId(request.id, checkJobId)));
  }

  @Rpc('ListJobs')
  async listJobs(request: ListJobsRequest): Promise<ListJobsResponse> {
    const query = validateInput(ListJobsQueryDto, listJobsQuery(request));
    const page = await this.jobs.list(query);
    return { items: page.items.map(jobMessage), nextCursor: page.nextCursor ?? undefined };
  }

  @Rpc('UpdateJob')
  async updateJob(request: UpdateJobRequest): Promise<JobMessage> {
    const id = requireId(request.id, checkJobId);
    const patch = validateInput(UpdateJobDto, jobPatch(request));
    return jobMessage(await this.jobs.update(id, patch));
  }

  @Rpc('DeleteJob')
  async deleteJob(request: DeleteJobRequest): Promise<DeleteJobResponse> {
    await this.jobs.delete(requireId(request.id, checkJobId));
    return {};
  }

  @Rpc('TriggerJob')
  @RequireRole('submitter')
  triggerJob(request: TriggerJobRequest): Promise<TriggerJobResponse> {
    return this.jobs.trigger(requireId(request.id, checkJobId));
  }

  @Rpc('PreviewJob')
  @RequireRole('reader')
  previewJob(request: PreviewJobRequest): PreviewJobResponse {
    return previewFires(validateInput(PreviewJobDto, request), Date.now());
  }

  @Rpc('SubmitTask')
  @RequireRole('submitter')
  async submitTask(request: SubmitTaskRequest): Promise<SubmittedTaskMessage> {
    const task = validateInput(SubmitTaskDto, taskBody(request));
    return submittedMessage(await this.tasks.submit(task));
  }

  @Rpc('SubmitTasks')
  @RequireRole('submitter')
  @WriteCost(perItemOf('tasks'))
  async submitTasks(request: SubmitTasksRequest): Promise<SubmitTasksResponse> {
    const tasks = (request.tasks ?? []).map((task, index) => taskBody(task, `tasks[${index}]`));
    const batch = validateInput(SubmitTasksDto, { tasks });
    return { items: (await this.tasks.submitBatch(batch.tasks)).map(submittedMessage) };
  }

  @Rpc('GetTask')
  async getTask(request: GetTaskRequest): Promise<TaskMessage> {
    return taskMessage(await this.tasks.get(requireId(request.id, checkTaskId)));
  }

  @Rpc('ListTasks')
  async listTasks(request: ListTasksRequest): Promise<ListTasksResponse> {
    const query = validateInput(ListTasksQueryDto, listTasksQuery(request));
    const page = await this.tasks.list(query);
    return { items: page.items.map(taskMessage), nextCursor: page.nextCursor ?? undefined };
  }

  @Rpc('CancelTask')
  @RequireRole('submitter')
  async cancelTask(request: CancelTaskRequest): Promise<TaskMessage> {
    return taskMessage(await this.tasks.cancel(requireId(request.id, checkTaskId)));
  }
}
