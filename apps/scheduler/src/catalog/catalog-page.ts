import type { CatalogEntry } from './catalog-entry';

export interface CatalogPage {
  entries: CatalogEntry[];
  /** The id to continue after; undefined on the last page. */
  next?: string;
}

/**
 * One page of entries in id order, after `after`, whose name contains `name`
 * (case-insensitive): one pass over the catalog keeping the `limit + 1` lowest
 * ids, so no sorted copy of every id is made per request.
 */
export function pageOf(
  entries: Iterable<CatalogEntry>,
  after: string | undefined,
  limit: number,
  name?: string,
): CatalogPage {
  const keep = limit + 1;
  const matches = name === undefined ? undefined : new RegExp(escapeRegExp(name), 'i');
  const best: CatalogEntry[] = [];
  for (const entry of entries) {
    if (after !== undefined && entry.id <= after) continue;
    if (best.length === keep && entry.id >= best[keep - 1].id) continue;
    if (matches && !matches.test(entry.name)) continue;
    best.splice(insertionIndex(best, entry.id), 0, entry);
    if (best.length > keep) best.pop();
  }
  const page = best.slice(0, limit);
  return best.length > limit
    ? { entries: page, next: page[page.length - 1].id }
    : { entries: page };
}

function insertionIndex(sorted: readonly CatalogEntry[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle].id < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
