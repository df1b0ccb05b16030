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
import type { JobView, Page } from '@app/contracts/dto/scheduler-api';
import { CreateJobDto, UpdateJobDto } from '../dto/job.dto';
import { ListJobsQueryDto } from '../dto/query.dto';
import { JobPageDto, JobViewDto, TriggeredDto } from '../dto/views.dto';
import { ZooKeeperDeadlineInterceptor } from '../errors/zookeeper-deadline.interceptor';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { JobIdPipe } from '../validation/id-pipes';
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

  @Get()
  @ApiOperation({ summary: 'List jobs by id, a page at a time' })
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
