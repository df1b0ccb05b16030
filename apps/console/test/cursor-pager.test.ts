import { CursorPager } from '../src/logic/cursor-pager';

describe('CursorPager', () => {
  it('walks forward on nextCursor and back over the cursors it saw', () => {
    let pager = CursorPager.first();
    expect([pager.page, pager.cursor, pager.hasPrevious, pager.hasNext]).toEqual([
      1,
      undefined,
      false,
      false,
    ]);
    pager = pager.loaded('c1');
    expect(pager.hasNext).toBe(true);
    pager = pager.forward();
    expect([pager.page, pager.cursor, pager.hasNext]).toEqual([2, 'c1', false]);
    pager = pager.loaded('c2').forward().loaded(null);
    expect([pager.page, pager.cursor, pager.hasNext, pager.hasPrevious]).toEqual([
      3,
      'c2',
      false,
      true,
    ]);
    // The last page: forward does nothing.
    expect(pager.forward()).toBe(pager);
    pager = pager.back();
    expect([pager.page, pager.cursor]).toEqual([2, 'c1']);
    pager = pager.back().back();
    expect([pager.page, pager.cursor, pager.hasPrevious]).toEqual([1, undefined, false]);
  });

  it('does not move forward before the page is loaded', () => {
    const pager = CursorPager.first();
    expect(pager.forward()).toBe(pager);
  });
});
