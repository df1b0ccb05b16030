/** `zks webhooks …`: subscriptions to signed notifications (scheduler /v1/webhooks). */
import { Command } from 'commander';
import type {
  CreatedWebhookView,
  DeliveryPage,
  WebhookPage,
  WebhookView,
} from '@app/audit/webhooks/webhook-views';
import { contextOf, printJson, type CliContext } from '../context';
import { keyValues, orDash, table, time } from '../output';
import { addPageOptions, notePaging, readPages, type PageOptions } from './paging';

interface SubscriptionOptions {
  endpoint?: string;
  event?: string[];
  secret?: string;
  job?: string;
  taskType?: string;
}

const hookPath = (id: string): string => `/v1/webhooks/${encodeURIComponent(id)}`;
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function withSubscriptionOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'where events are POSTed (--url is the scheduler API)')
    .option(
      '--event <type>',
      'an event type (repeat): task.failed, task.timed_out, task.reassigned, job.misfired, worker.left, leader.changed, audit.backlog, or *',
      collect,
    )
    .option('--secret <secret>', 'signing secret (default: generated, printed once)')
    .option('--job <id>', 'only events about this job')
    .option('--task-type <type>', 'only events about tasks of this handler type');
}

function filterOf(options: SubscriptionOptions): { jobId?: string; taskType?: string } | undefined {
  if (options.job === undefined && options.taskType === undefined) return undefined;
  return { jobId: options.job, taskType: options.taskType };
}

function detail(context: CliContext, hook: WebhookView | CreatedWebhookView): void {
  const pairs: Array<[string, string]> = [
    ['id', hook.id],
    ['url', hook.url],
    ['events', hook.events.join(', ')],
    ['job', orDash(hook.filter?.jobId)],
    ['task type', orDash(hook.filter?.taskType)],
    ['created', time(hook.createdAt)],
    ['updated', time(hook.updatedAt)],
  ];
  context.out.line(keyValues(pairs));
  if ('secret' in hook) {
    context.out.line(keyValues([['secret', hook.secret]]));
    context.out.note('the secret is shown this once: keep it where the receiver can read it');
  }
}

export function webhooksCommand(): Command {
  const webhooks = new Command('webhooks').description(
    'signed notifications of failures (scheduler /v1/webhooks)',
  );

  withSubscriptionOptions(
    webhooks.command('create').description('subscribe a URL to events'),
  ).action(async (options: SubscriptionOptions, command: Command) => {
    const context = contextOf(command);
    if (options.endpoint === undefined || options.event === undefined) {
      command.error('error: --endpoint and at least one --event are required', { exitCode: 2 });
    }
    const hook = await context.scheduler.post<CreatedWebhookView>('/v1/webhooks', {
      url: options.endpoint,
      events: options.event,
      secret: options.secret,
      filter: filterOf(options),
    });
    if (context.json) return printJson(context, hook);
    detail(context, hook);
  });

  addPageOptions(webhooks.command('list').description('list webhooks'), 1000).action(
    async (options: PageOptions, command: Command) => {
      const context = contextOf(command);
      const page = await readPages(options, (cursor) =>
        context.scheduler.get<WebhookPage>('/v1/webhooks', { limit: options.limit, cursor }),
      );
      if (context.json) return printJson(context, page);
      if (page.items.length > 0) {
        context.out.line(
          table(
            ['ID', 'URL', 'EVENTS', 'FILTER'],
            page.items.map((hook) => [
              hook.id,
              hook.url,
              hook.events.join(','),
              hook.filter === undefined ? '-' : JSON.stringify(hook.filter),
            ]),
          ),
        );
      }
      notePaging(context, page, 'webhooks');
    },
  );

  webhooks
    .command('get')
    .description('show a webhook (never its secret)')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const hook = await context.scheduler.get<WebhookView>(hookPath(id));
      if (context.json) return printJson(context, hook);
      detail(context, hook);
    });

  withSubscriptionOptions(
    webhooks
      .command('update')
      .description('change a webhook: the options given replace its values')
      .argument('<id>', 'webhook id')
      .option('--no-filter', 'remove the job and task type filter'),
  ).action(
    async (id: string, options: SubscriptionOptions & { filter?: boolean }, command: Command) => {
      const context = contextOf(command);
      const filter = options.filter === false ? null : filterOf(options);
      const hook = await context.scheduler.patch<WebhookView | CreatedWebhookView>(hookPath(id), {
        url: options.endpoint,
        events: options.event,
        secret: options.secret,
        filter,
      });
      if (context.json) return printJson(context, hook);
      detail(context, hook);
    },
  );

  webhooks
    .command('delete')
    .description('delete a webhook and its deliveries')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      await context.scheduler.delete(hookPath(id));
      if (context.json) return printJson(context, { id, deleted: true });
      context.out.line(`deleted webhook ${id}`);
    });

  webhooks
    .command('test')
    .description('send a ping event to a webhook')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const queued = await context.scheduler.post<{ eventId: string }>(`${hookPath(id)}/test`);
      if (context.json) return printJson(context, queued);
      context.out.line(`ping queued: X-Zks-Delivery ${queued.eventId}`);
    });

  addPageOptions(
    webhooks
      .command('deliveries')
      .description("a webhook's deliveries, newest first: state, attempts, last status, next retry")
      .argument('<id>', 'webhook id'),
    1000,
  ).action(async (id: string, options: PageOptions, command: Command) => {
    const context = contextOf(command);
    const page = await readPages(options, (cursor) =>
      context.scheduler.get<DeliveryPage>(`${hookPath(id)}/deliveries`, {
        limit: options.limit,
        cursor,
      }),
    );
    if (context.json) return printJson(context, page);
    if (page.items.length > 0) {
      context.out.line(
        table(
          ['EVENT', 'TYPE', 'STATE', 'ATTEMPTS', 'LAST', 'NEXT', 'OCCURRED'],
          page.items.map((d) => [
            d.eventId,
            d.type,
            d.state,
            String(d.attempts),
            orDash(d.lastStatus ?? d.lastError),
            time(d.nextAttemptAt),
            time(d.occurredAt),
          ]),
        ),
      );
    }
    notePaging(context, page, 'deliveries');
  });

  return webhooks;
}
