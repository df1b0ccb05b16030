/** `zks audit`: the audit history with filters (registry /v1/audit), and its live tail (/v1/events). */
import { Command, Option } from 'commander';
import { AUDIT_EVENT_TYPES } from '@app/contracts/audit-event';
import {
  MAX_AUDIT_PAGE_LIMIT,
  type AuditEventView,
  type AuditPageView,
} from '@app/contracts/dto/registry-api';
import { contextOf, printJson, type CliContext } from '../context';
import { followEvents } from '../event-stream';
import { parseTimeAgo } from '../parsers';
import { auditLine, auditTable } from '../views';
import { addPageOptions, notePaging, readPages, type PageOptions } from './paging';

interface AuditOptions extends PageOptions {
  task?: string;
  job?: string;
  worker?: string;
  type?: AuditEventView['type'];
  since?: string;
  until?: string;
  follow?: boolean;
}

export function auditCommand(): Command {
  return addPageOptions(
    new Command('audit')
      .description('audit history, oldest first (registry /v1/audit); --follow for live events')
      .option('--task <id>', 'only the events of this task')
      .option('--job <id>', 'only the events of this job')
      .option('--worker <id>', 'only the events about this worker')
      .addOption(new Option('--type <type>', 'only events of this type').choices(AUDIT_EVENT_TYPES))
      .option(
        '--since <time>',
        'at or after: ISO 8601, or a duration ago (10m, 2h, 1d)',
        parseTimeAgo,
      )
      .option('--until <time>', 'before: ISO 8601, or a duration ago', parseTimeAgo)
      .addOption(
        new Option(
          '-f, --follow',
          'after the history, print events as they are stored, one per line (--json: one JSON object per line) until Ctrl-C',
        ).conflicts('until'),
      ),
    MAX_AUDIT_PAGE_LIMIT,
  ).action(async (options: AuditOptions, command: Command) => {
    const context = contextOf(command);
    const filters = {
      taskId: options.task,
      jobId: options.job,
      workerId: options.worker,
      type: options.type,
    };
    const page = await readPages(options, (cursor) =>
      context.registry.get<AuditPageView>('/v1/audit', {
        ...filters,
        since: options.since,
        until: options.until,
        limit: options.limit,
        cursor,
      }),
    );
    if (options.follow) return follow(context, filters, page.items);
    if (context.json) return printJson(context, page);
    if (page.items.length > 0) context.out.line(auditTable(page.items));
    notePaging(context, page, 'events');
  });
}

async function follow(
  context: CliContext,
  filters: Record<string, string | undefined>,
  history: readonly AuditEventView[],
): Promise<void> {
  const print = (event: AuditEventView): void =>
    context.out.line(context.json ? JSON.stringify(event) : auditLine(event));
  history.forEach(print);
  // Resuming after the last event printed: nothing between the history and the stream is lost.
  // (After an empty history the stream starts with the next event stored.)
  await followEvents(context.registry, filters, history.at(-1)?.seq, {
    onOpen: () => context.out.note('following live events (Ctrl-C to stop)'),
    onEvent: print,
  });
}
