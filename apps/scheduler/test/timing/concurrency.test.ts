import { applyConcurrency } from '../../src/timing/concurrency';

describe('applyConcurrency', () => {
  const due = [1_000, 2_000, 3_000];

  it('allow fires every instant due', () => {
    expect(applyConcurrency('allow', due, 5)).toEqual({ fire: due, skipped: [] });
  });

  it('forbid fires only the latest when none runs, nothing while one runs', () => {
    expect(applyConcurrency('forbid', due, 0)).toEqual({
      fire: [3_000],
      skipped: [1_000, 2_000],
      reason: 'one at a time',
    });
    expect(applyConcurrency('forbid', due, 1)).toEqual({
      fire: [],
      skipped: due,
      reason: 'previous still running',
    });
  });

  it('replace fires only the latest, running or not (the caller cancels the running ones)', () => {
    for (const running of [0, 2]) {
      expect(applyConcurrency('replace', due, running)).toEqual({
        fire: [3_000],
        skipped: [1_000, 2_000],
        reason: 'one at a time',
      });
    }
  });

  it('a single instant is not skipped unless forbid finds one running', () => {
    expect(applyConcurrency('replace', [5_000], 1).skipped).toEqual([]);
    expect(applyConcurrency('forbid', [5_000], 0)).toMatchObject({ fire: [5_000], skipped: [] });
    expect(applyConcurrency('forbid', [], 1)).toEqual({ fire: [], skipped: [] });
  });
});
