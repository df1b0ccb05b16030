import { RESULT_LIMIT_BYTES, storableResult, taskError } from '../../src/execution/stored-outcome';

describe('what a worker stores', () => {
  it('results: JSON up to the limit kept, anything else replaced by a note', () => {
    expect(storableResult({ a: [1, 'b'] })).toEqual({ a: [1, 'b'] });
    expect(storableResult(undefined)).toBeUndefined();
    const fits = 'x'.repeat(RESULT_LIMIT_BYTES - 2); // with its quotes: exactly the limit
    expect(storableResult(fits)).toBe(fits);
    expect(storableResult(`${fits}x`)).toEqual({
      note: `result dropped: ${RESULT_LIMIT_BYTES + 1} bytes of JSON exceed the ${RESULT_LIMIT_BYTES}-byte limit`,
    });
    expect(storableResult('é'.repeat(RESULT_LIMIT_BYTES / 2))).toEqual({
      note: expect.stringMatching(/^result dropped: \d+ bytes/),
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(storableResult(circular)).toEqual({
      note: expect.stringMatching(/^result dropped: not JSON/),
    });
  });

  it('error messages are cut to a bounded excerpt', () => {
    const error = taskError('handler', new Error('e'.repeat(10_000)));
    expect(error.message.length).toBe(2_000);
    expect(error.message.endsWith('…')).toBe(true);
    expect(taskError('handler', 'plain string').message).toBe('plain string');
  });
});
