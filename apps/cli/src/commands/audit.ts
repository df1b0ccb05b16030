/** `zks audit`: the audit history with filters (registry /v1/audit). */
import { Command, Option } from 'commander';
import { AUDIT_EVENT_TYPES } from '@app/contracts/audit-event';
import {
  MAX_AUDIT_PAGE_LIMIT,
  type AuditEventView,
  type AuditPageView,
} from '@app/contracts/dto/registry-api';
import { contextOf, printJson } from '../context';
import { parseTimeAgo } from '../parsers';
import { auditTable } from '../views';
import { addPageOptions, notePaging, readPages, type PageOptions } from './paging';

interface AuditOptions extends PageOptions {
  task?: string;
  job?: string;
  worker?: string;
  type?: AuditEventView['type'];
  since?: string;
  until?: string;
}

export function auditCommand(): Command {
  return addPageOptions(
    new Command('audit')
      .description('audit history, oldest first (registry /v1/audit)')
      .option('--task <id>', 'only the events of this task')
      .option('--job <id>', 'only the events of this job')
      .option('--worker <id>', 'only the events about this worker')
      .addOption(new Option('--type <type>', 'only events of this type').choices(AUDIT_EVENT_TYPES))
      .option(
        '--since <time>',
        'at or after: ISO 8601, or a duration ago (10m, 2h, 1d)',
        parseTimeAgo,
      )
      .option('--until <time>', 'before: ISO 8601, or a duration ago', parseTimeAgo),
    MAX_AUDIT_PAGE_LIMIT,
  ).action(async (options: AuditOptions, command: Command) => {
    const context = contextOf(command);
    const page = await readPages(options, (cursor) =>
      context.registry.get<AuditPageView>('/v1/audit', {
        taskId: options.task,
        jobId: options.job,
        workerId: options.worker,
        type: options.type,
        since: options.since,
        until: options.until,
        limit: options.limit,
        cursor,
      }),
    );
    if (context.json) return printJson(context, page);
    if (page.items.length > 0) context.out.line(auditTable(page.items));
    notePaging(context, page, 'events');
  });
}
