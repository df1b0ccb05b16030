import { randomUUID } from 'node:crypto';
import type { CatalogEntry } from '../../src/catalog/catalog-entry';
import { pageOf } from '../../src/catalog/catalog-page';
import { InternPool } from '../../src/catalog/intern-pool';

const entry = (name: string): CatalogEntry => ({ id: randomUUID(), name }) as CatalogEntry;

describe('pageOf', () => {
  const entries = Array.from({ length: 1_000 }, (_, i) =>
    entry(i % 10 === 0 ? `Nightly-${i}` : `job-${i}`),
  );
  const sorted = entries.map((e) => e.id).sort();

  it('walks every entry in id order, a page at a time, with no sorted copy of all', () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = pageOf(entries, after, 37);
      seen.push(...page.entries.map((e) => e.id));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(seen).toEqual(sorted);
    expect(pages).toBe(Math.ceil(1_000 / 37));
  });

  it('keeps only names containing the text, in any case, and says when there is no more', () => {
    const page = pageOf(entries, undefined, 1_000, 'nIGHTLY');
    expect(page.entries).toHaveLength(100);
    expect(page.entries.every((e) => e.name.startsWith('Nightly-'))).toBe(true);
    expect(page.next).toBeUndefined();
    expect(pageOf(entries, undefined, 10, '.*').entries).toEqual([]); // text, not a pattern
  });

  it('gives a cursor only when more entries follow', () => {
    expect(pageOf(entries, undefined, 999).next).toBe(sorted[998]);
    expect(pageOf(entries, undefined, 1_000).next).toBeUndefined();
    expect(pageOf(entries, sorted[999], 10)).toEqual({ entries: [] });
  });
});

describe('InternPool', () => {
  it('hands out one instance per value and drops it with its last use', () => {
    const pool = new InternPool();
    const a = pool.take(['x', 'y'].join(''));
    const b = pool.take(['x', 'y'].join(''));
    expect(b).toBe(a);
    expect(pool.size).toBe(1);
    pool.release(a);
    expect(pool.size).toBe(1);
    pool.release(b);
    expect(pool.size).toBe(0);
    pool.release('never taken'); // harmless
    expect(pool.size).toBe(0);
  });
});
