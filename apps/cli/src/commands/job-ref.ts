/**
 * Jobs are addressed by id or by name: a name (unique in a cluster) is looked
 * up in the job list, so `zks jobs pause nightly-report` works.
 */
import type { JobView, Page } from '@app/contracts/dto/scheduler-api';
import { MAX_PAGE_LIMIT } from '@app/contracts/dto/scheduler-api';
import type { CliContext } from '../context';
import { CliError, ExitCode } from '../exit-codes';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function resolveJobId(context: CliContext, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref;
  let cursor: string | undefined;
  do {
    const page = await context.scheduler.get<Page<JobView>>('/v1/jobs', {
      limit: MAX_PAGE_LIMIT,
      cursor,
    });
    const found = page.items.find((job) => job.name === ref);
    if (found) return found.id;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  throw new CliError(`not found: no job has the id or name "${ref}"`, ExitCode.notFound);
}
