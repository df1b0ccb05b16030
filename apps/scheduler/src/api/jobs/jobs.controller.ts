import { RequireRole } from '@app/common';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  MAX_BATCH_JOBS,
  type CreatedJobItem,
  type JobPreviewView,
  type JobView,
  type Page,
} from '@app/contracts/dto/scheduler-api';
import { CreateJobDto, CreateJobsDto, UpdateJobDto } from '../dto/job.dto';
import { ListJobsQueryDto } from '../dto/query.dto';
import { PreviewJobDto } from '../dto/preview.dto';
import { previewFires } from '../preview/fire-preview';
import {
  CreatedJobsDto,
  JobPageDto,
  JobPreviewDto,
  JobViewDto,
  TriggeredDto,
} from '../dto/views.dto';
import { ZooKeeperDeadlineInterceptor } from '../errors/zookeeper-deadline.interceptor';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { JobIdPipe } from '../validation/id-pipes';
import { HTTP_STATUS_OF } from '@app/common/api';
import { errorBody } from '../errors/http-exception.filter';
import { JobsService } from './jobs.service';

const { BAD_REQUEST, FORBIDDEN, NOT_FOUND, CONFLICT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS } =
  HttpStatus;
const JOB_ID = ApiParam({ name: 'id', format: 'uuid', description: 'Job id.' });

@ApiTags('jobs')
@UseInterceptors(ZooKeeperDeadlineInterceptor)
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a job (cron schedule or one-off runAt)' })
  @ApiCreatedResponse({ type: JobViewDto })
  @ApiErrors(BAD_REQUEST, CONFLICT, PAYLOAD_TOO_LARGE)
  create(@Body() job: CreateJobDto): Promise<JobView> {
    return this.jobs.create(job);
  }

  @Post('batch')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: `Create up to ${MAX_BATCH_JOBS} jobs`,
    description:
      'Each job is validated and created on its own: every item of the answer (in request order) is the job created or the error that job alone would have got (its statusCode, message and fields). 200 whatever the items; 400 only when the list itself is wrong.',
  })
  @ApiOkResponse({ type: CreatedJobsDto })
  @ApiErrors(BAD_REQUEST, PAYLOAD_TOO_LARGE)
  async createBatch(@Body() batch: CreateJobsDto): Promise<{ items: CreatedJobItem[] }> {
    const created = await this.jobs.createBatch(batch.jobs);
    return {
      items: created.map(({ job, error }) =>
        job
          ? { job }
          : { error: errorBody(HTTP_STATUS_OF[error.kind], error.message, [...error.errors]) },
      ),
    };
  }

  @Post('preview')
  @RequireRole('reader')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'The next fire instants of a schedule, in its time zone (nothing is written)',
    description:
      'The fields of a job’s timing (schedule + timezone, or runAt), checked as a create checks them; computed by the code the leader fires with. A reader may call it.',
  })
  @ApiOkResponse({ type: JobPreviewDto })
  @ApiErrors(BAD_REQUEST)
  preview(@Body() body: PreviewJobDto): JobPreviewView {
    return previewFires(body, Date.now());
  }

  @Get()
  @ApiOperation({
    summary: 'List jobs by id, a page at a time',
    description:
      "From the replica's job view, once it holds every job change committed before the request.",
  })
  @ApiOkResponse({ type: JobPageDto })
  @ApiErrors(BAD_REQUEST)
  list(@Query() query: ListJobsQueryDto): Promise<Page<JobView>> {
    return this.jobs.list(query);
  }

  @Get(':id')
  @JOB_ID
  @ApiOperation({ summary: 'Get a job with its next and last fire' })
  @ApiOkResponse({ type: JobViewDto })
  @ApiErrors(BAD_REQUEST, NOT_FOUND)
  get(@Param('id', JobIdPipe) id: string): Promise<JobView> {
    return this.jobs.get(id);
  }

  @Patch(':id')
  @JOB_ID
  @ApiOperation({
    summary: 'Change a job',
    description:
      'A merge patch: given fields replace the job’s; null removes timeoutMs or selector; schedule replaces runAt and the other way round. The result is validated as a whole.',
  })
  @ApiOkResponse({ type: JobViewDto })
  @ApiErrors(BAD_REQUEST, NOT_FOUND, CONFLICT, PAYLOAD_TOO_LARGE)
  update(@Param('id', JobIdPipe) id: string, @Body() patch: UpdateJobDto): Promise<JobView> {
    return this.jobs.update(id, patch);
  }

  @Delete(':id')
  @JOB_ID
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a job (its tasks stay)' })
  @ApiNoContentResponse()
  @ApiErrors(BAD_REQUEST, NOT_FOUND)
  delete(@Param('id', JobIdPipe) id: string): Promise<void> {
    return this.jobs.delete(id);
  }

  @Post(':id/trigger')
  @RequireRole('submitter')
  @JOB_ID
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Submit a task of the job now',
    description: 'A submitter token may trigger only jobs it owns (403 otherwise).',
  })
  @ApiAcceptedResponse({ type: TriggeredDto })
  @ApiErrors(BAD_REQUEST, FORBIDDEN, NOT_FOUND, TOO_MANY_REQUESTS)
  trigger(@Param('id', JobIdPipe) id: string): Promise<{ taskId: string }> {
    return this.jobs.trigger(id);
  }
}
