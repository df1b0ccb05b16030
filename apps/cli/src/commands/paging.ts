/** Cursor pages of the list endpoints: one page, or every page with `--all`. */
import { Option, type Command } from 'commander';
import { integerIn } from '../parsers';
import type { CliContext } from '../context';

export interface PageOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function addPageOptions(command: Command, maxLimit: number): Command {
  return command
    .option('--limit <n>', `items per page (1-${maxLimit})`, integerIn(1, maxLimit))
    .option('--cursor <cursor>', 'continue after a previous page (its nextCursor)')
    .addOption(new Option('--all', 'follow the cursor through every page').conflicts('cursor'));
}

/** Reads one page, or all of them; `--all` answers one page with a null cursor. */
export async function readPages<T>(
  options: PageOptions,
  readPage: (cursor: string | undefined) => Promise<Page<T>>,
): Promise<Page<T>> {
  const first = await readPage(options.cursor);
  if (!options.all) return first;
  const items = [...first.items];
  let cursor = first.nextCursor;
  while (cursor !== null) {
    const page = await readPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
  }
  return { items, nextCursor: null };
}

/** After a human-readable page: how to get the next one (stderr, so stdout stays the table). */
export function notePaging(context: CliContext, page: Page<unknown>, what: string): void {
  if (page.items.length === 0) context.out.note(`no ${what}`);
  if (page.nextCursor !== null) {
    context.out.note(`more ${what}: add --cursor ${page.nextCursor} (or --all)`);
  }
}
