/** `zks tasks …`: submit, get, list, cancel and watch one-off tasks (scheduler /v1/tasks). */
import { Command, Option } from 'commander';
import {
  MAX_PAGE_LIMIT,
  type Page,
  type SubmitTaskBody,
  type SubmittedTaskView,
  type TaskView,
} from '@app/contracts/dto/scheduler-api';
import { TASK_STATES, type TaskState } from '@app/contracts/task-state';
import { contextOf, printJson } from '../context';
import { parseTimeAhead } from '../parsers';
import { taskDetail, tasksTable } from '../views';
import { addWatchOptions, afterSubmit, followTask, type WatchFlags } from './follow';
import { resolveJobId } from './job-ref';
import { addPageOptions, notePaging, readPages, type PageOptions } from './paging';
import { addTaskTemplateOptions, templateBody, type TaskTemplateOptions } from './task-options';

interface SubmitOptions extends TaskTemplateOptions, WatchFlags {
  type: string;
  runAt?: string;
  idempotencyKey?: string;
}

interface ListOptions extends PageOptions {
  job?: string;
  state?: TaskState;
}

const taskPath = (id: string): string => `/v1/tasks/${encodeURIComponent(id)}`;

export function tasksCommand(): Command {
  const tasks = new Command('tasks').description(
    'one-off tasks and job fires (scheduler /v1/tasks)',
  );

  addWatchOptions(
    addTaskTemplateOptions(
      tasks
        .command('submit')
        .description('submit a one-off task')
        .requiredOption('--type <type>', 'task handler: noop, sleep, http, logs.compress, shell, …')
        .option('--run-at <time>', 'earliest start: ISO 8601 or +duration (+30s)', parseTimeAhead)
        .option('--idempotency-key <key>', 'the same key again answers the same task'),
    ),
  ).action(async (options: SubmitOptions, command: Command) => {
    const context = contextOf(command);
    const body: SubmitTaskBody = {
      ...templateBody(options),
      type: options.type,
      runAt: options.runAt,
      idempotencyKey: options.idempotencyKey,
    };
    const submitted = await context.scheduler.post<SubmittedTaskView>('/v1/tasks', body);
    await afterSubmit(context, submitted.id, options, submitted);
  });

  tasks
    .command('get')
    .description('show a task: state, attempt, worker, times, result or error')
    .argument('<task>', 'task id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const task = await context.scheduler.get<TaskView>(taskPath(id));
      if (context.json) return printJson(context, task);
      context.out.line(taskDetail(task));
    });

  addPageOptions(
    tasks
      .command('list')
      .description('list tasks: live ones first, then those retired to the history')
      .option('--job <job>', 'only the tasks of this job (id or name)')
      .addOption(new Option('--state <state>', 'only tasks in this state').choices(TASK_STATES)),
    MAX_PAGE_LIMIT,
  ).action(async (options: ListOptions, command: Command) => {
    const context = contextOf(command);
    const jobId = options.job === undefined ? undefined : await resolveJobId(context, options.job);
    const page = await readPages(options, (cursor) =>
      context.scheduler.get<Page<TaskView>>('/v1/tasks', {
        jobId,
        state: options.state,
        limit: options.limit,
        cursor,
      }),
    );
    if (context.json) return printJson(context, page);
    if (page.items.length > 0) context.out.line(tasksTable(page.items));
    notePaging(context, page, 'tasks');
  });

  tasks
    .command('cancel')
    .description('cancel a task that has not finished (a worker running it is told to abort)')
    .argument('<task>', 'task id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const task = await context.scheduler.post<TaskView>(`${taskPath(id)}/cancel`);
      if (context.json) return printJson(context, task);
      context.out.line(`cancelled task ${task.id} (${task.state})`);
    });

  addWatchOptions(
    tasks
      .command('watch')
      .description('follow a task until it finishes; exit code 0 if it succeeded, 1 if not')
      .argument('<task>', 'task id'),
    false,
  ).action(async (id: string, options: WatchFlags, command: Command) => {
    await followTask(contextOf(command), id, options);
  });

  return tasks;
}
