import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  MAX_BATCH_TASKS,
  type Page,
  type SubmittedTaskView,
  type TaskView,
} from '@app/contracts/dto/scheduler-api';
import { RequireRole, WriteCost, perItemOf } from '@app/common';
import { ListTasksQueryDto } from '../dto/query.dto';
import { SubmitTaskDto, SubmitTasksDto } from '../dto/task.dto';
import { SubmittedTaskDto, SubmittedTasksDto, TaskPageDto, TaskViewDto } from '../dto/views.dto';
import { ZooKeeperDeadlineInterceptor } from '../errors/zookeeper-deadline.interceptor';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { TaskIdPipe } from '../validation/id-pipes';
import { TasksService } from './tasks.service';

const { BAD_REQUEST, FORBIDDEN, NOT_FOUND, CONFLICT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS } =
  HttpStatus;
const TASK_ID = ApiParam({ name: 'id', description: 'Task id.' });

@ApiTags('tasks')
@UseInterceptors(ZooKeeperDeadlineInterceptor)
@Controller('v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @RequireRole('submitter')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Submit a one-off task',
    description: 'The same idempotencyKey again answers the task submitted first.',
  })
  @ApiAcceptedResponse({ type: SubmittedTaskDto })
  @ApiErrors(BAD_REQUEST, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS)
  submit(@Body() task: SubmitTaskDto): Promise<SubmittedTaskView> {
    return this.tasks.submit(task);
  }

  @Post('batch')
  @RequireRole('submitter')
  @WriteCost(perItemOf('tasks'))
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: `Submit up to ${MAX_BATCH_TASKS} one-off tasks; ids in request order` })
  @ApiAcceptedResponse({ type: SubmittedTasksDto })
  @ApiErrors(BAD_REQUEST, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS)
  async submitBatch(@Body() batch: SubmitTasksDto): Promise<{ items: SubmittedTaskView[] }> {
    return { items: await this.tasks.submitBatch(batch.tasks) };
  }

  @Get()
  @ApiOperation({
    summary: 'List tasks by id, optionally of one job or in one state',
    description:
      'Live tasks (ZooKeeper) first, then tasks retired to the history (PostgreSQL): follow nextCursor until null. A task retired while you page may be listed twice. 503 when the history is needed and unreachable.',
  })
  @ApiOkResponse({ type: TaskPageDto })
  @ApiErrors(BAD_REQUEST)
  list(@Query() query: ListTasksQueryDto): Promise<Page<TaskView>> {
    return this.tasks.list(query);
  }

  @Get(':id')
  @TASK_ID
  @ApiOperation({
    summary: 'Get a task: state, attempt, worker, times, result or error',
    description:
      'From ZooKeeper while the task is live, from the history (its final record) once it has been retired. 503 when it is not in ZooKeeper and the history is unreachable.',
  })
  @ApiOkResponse({ type: TaskViewDto })
  @ApiErrors(BAD_REQUEST, NOT_FOUND)
  get(@Param('id', TaskIdPipe) id: string): Promise<TaskView> {
    return this.tasks.get(id);
  }

  @Post(':id/cancel')
  @RequireRole('submitter')
  @TASK_ID
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Cancel a task that has not finished',
    description:
      'A worker running it is told to abort. 409 when the task has already finished; 403 when a submitter token cancels a task of another token.',
  })
  @ApiAcceptedResponse({ type: TaskViewDto })
  @ApiErrors(BAD_REQUEST, FORBIDDEN, NOT_FOUND, CONFLICT)
  cancel(@Param('id', TaskIdPipe) id: string): Promise<TaskView> {
    return this.tasks.cancel(id);
  }
}
