/** `zks jobs …`: create, preview, list, get, pause, resume, delete and trigger jobs (scheduler /v1/jobs). */
import { Command, Option } from 'commander';
import {
  MAX_PAGE_LIMIT,
  MAX_PREVIEW_COUNT,
  type CreateJobBody,
  type JobPreviewView,
  type JobView,
  type Page,
} from '@app/contracts/dto/scheduler-api';
import { CONCURRENCY_POLICIES, MISFIRE_POLICIES } from '@app/contracts/job';
import { contextOf, printJson } from '../context';
import { integerIn, parseTimeAhead } from '../parsers';
import { jobDetail, jobsTable } from '../views';
import { resolveJobId } from './job-ref';
import { addPageOptions, notePaging, readPages, type PageOptions } from './paging';
import { addWatchOptions, afterSubmit, type WatchFlags } from './follow';
import { addTaskTemplateOptions, templateBody, type TaskTemplateOptions } from './task-options';

interface CreateOptions extends TaskTemplateOptions {
  name: string;
  type: string;
  schedule?: string;
  timezone?: string;
  runAt?: string;
  concurrency?: CreateJobBody['concurrency'];
  misfire?: CreateJobBody['misfire'];
  paused?: boolean;
}

const jobPath = (id: string): string => `/v1/jobs/${encodeURIComponent(id)}`;

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('cron and one-off jobs (scheduler /v1/jobs)');

  addTaskTemplateOptions(
    jobs
      .command('create')
      .description('create a job: a cron --schedule or a one-off --run-at')
      .requiredOption('--name <name>', 'unique job name')
      .requiredOption('--type <type>', 'task handler: noop, sleep, http, logs.compress, shell, …')
      .addOption(new Option('--schedule <cron>', 'cron, 5 or 6 fields').conflicts('runAt'))
      .option('--timezone <zone>', 'IANA time zone of the schedule (default UTC)')
      .option('--run-at <time>', 'one-off fire time: ISO 8601 or +duration (+30s)', parseTimeAhead)
      .addOption(
        new Option('--concurrency <policy>', 'a fire while the previous task runs').choices(
          CONCURRENCY_POLICIES,
        ),
      )
      .addOption(
        new Option('--misfire <policy>', 'what to do with missed fires').choices(MISFIRE_POLICIES),
      )
      .option('--paused', 'create it paused'),
  ).action(async (options: CreateOptions, command: Command) => {
    const context = contextOf(command);
    const body: CreateJobBody = {
      ...templateBody(options),
      name: options.name,
      type: options.type,
      schedule: options.schedule,
      timezone: options.timezone,
      runAt: options.runAt,
      concurrency: options.concurrency,
      misfire: options.misfire,
      paused: options.paused,
    };
    const job = await context.scheduler.post<JobView>('/v1/jobs', body);
    if (context.json) return printJson(context, job);
    context.out.line(`created job ${job.name} (${job.id}); next fire ${job.nextFireAt ?? 'none'}`);
  });

  jobs
    .command('preview')
    .description('the next fire instants of a schedule in its time zone (nothing is created)')
    .addOption(new Option('--schedule <cron>', 'cron, 5 or 6 fields').conflicts('runAt'))
    .option('--timezone <zone>', 'IANA time zone of the schedule (default UTC)')
    .option('--run-at <time>', 'one-off fire time: ISO 8601 or +duration (+30s)', parseTimeAhead)
    .option(
      '--count <n>',
      `how many instants (1..${MAX_PREVIEW_COUNT}, default 10)`,
      integerIn(1, MAX_PREVIEW_COUNT),
    )
    .action(
      async (
        options: { schedule?: string; timezone?: string; runAt?: string; count?: number },
        command: Command,
      ) => {
        const context = contextOf(command);
        const preview = await context.scheduler.post<JobPreviewView>('/v1/jobs/preview', options);
        if (context.json) return printJson(context, preview);
        for (const instant of preview.instants) {
          context.out.line(`${instant.local}  (${instant.at})`);
        }
        if (preview.instants.length === 0) context.out.line('no fire instant');
      },
    );

  addPageOptions(jobs.command('list').description('list jobs'), MAX_PAGE_LIMIT).action(
    async (options: PageOptions, command: Command) => {
      const context = contextOf(command);
      const page = await readPages(options, (cursor) =>
        context.scheduler.get<Page<JobView>>('/v1/jobs', { limit: options.limit, cursor }),
      );
      if (context.json) return printJson(context, page);
      if (page.items.length > 0) context.out.line(jobsTable(page.items));
      notePaging(context, page, 'jobs');
    },
  );

  jobs
    .command('get')
    .description('show a job with its next and last fire')
    .argument('<job>', 'job id or name')
    .action(async (ref: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const job = await context.scheduler.get<JobView>(jobPath(await resolveJobId(context, ref)));
      if (context.json) return printJson(context, job);
      context.out.line(jobDetail(job));
    });

  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    jobs
      .command(name)
      .description(paused ? 'stop firing a job' : 'fire a paused job again')
      .argument('<job>', 'job id or name')
      .action(async (ref: string, _options: unknown, command: Command) => {
        const context = contextOf(command);
        const id = await resolveJobId(context, ref);
        const job = await context.scheduler.patch<JobView>(jobPath(id), { paused });
        if (context.json) return printJson(context, job);
        context.out.line(
          `${paused ? 'paused' : 'resumed'} job ${job.name} (${job.id}); next fire ${job.nextFireAt ?? 'none'}`,
        );
      });
  }

  jobs
    .command('delete')
    .description('delete a job (its tasks stay)')
    .argument('<job>', 'job id or name')
    .action(async (ref: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const id = await resolveJobId(context, ref);
      await context.scheduler.delete(jobPath(id));
      if (context.json) return printJson(context, { id, deleted: true });
      context.out.line(`deleted job ${id}`);
    });

  addWatchOptions(
    jobs
      .command('trigger')
      .description('submit a task of the job now')
      .argument('<job>', 'job id or name'),
  ).action(async (ref: string, options: WatchFlags, command: Command) => {
    const context = contextOf(command);
    const id = await resolveJobId(context, ref);
    const { taskId } = await context.scheduler.post<{ taskId: string }>(`${jobPath(id)}/trigger`);
    await afterSubmit(context, taskId, options, { taskId });
  });

  return jobs;
}
