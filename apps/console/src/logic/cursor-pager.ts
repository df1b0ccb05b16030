/**
 * Keyset paging as the API gives it (a `nextCursor` per page, no offsets, no
 * totals): the pager remembers the cursor of every page seen, so "previous"
 * goes back without the server knowing about it. Immutable: each move
 * returns a new pager, so a component keeps it in state.
 */
export class CursorPager {
  private constructor(
    /** The cursor that fetched each page seen so far; the first page has none. */
    private readonly cursors: ReadonlyArray<string | undefined>,
    /** The nextCursor of the page shown, once it is loaded; null on the last page. */
    readonly next: string | null | undefined,
  ) {}

  static first(): CursorPager {
    return new CursorPager([undefined], undefined);
  }

  /** The cursor to fetch the page shown. */
  get cursor(): string | undefined {
    return this.cursors[this.cursors.length - 1];
  }

  /** 1-based number of the page shown. */
  get page(): number {
    return this.cursors.length;
  }

  get hasPrevious(): boolean {
    return this.cursors.length > 1;
  }

  get hasNext(): boolean {
    return typeof this.next === 'string';
  }

  /** The page shown was loaded and said where the next one starts. */
  loaded(nextCursor: string | null): CursorPager {
    return new CursorPager(this.cursors, nextCursor);
  }

  forward(): CursorPager {
    if (typeof this.next !== 'string') return this;
    return new CursorPager([...this.cursors, this.next], undefined);
  }

  back(): CursorPager {
    if (!this.hasPrevious) return this;
    return new CursorPager(this.cursors.slice(0, -1), undefined);
  }
}
