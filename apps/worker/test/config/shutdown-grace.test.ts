import { ConfigValidationError } from '@app/common';
import { DEFAULT_SHUTDOWN_GRACE_MS, loadShutdownGraceMs } from '../../src/config/shutdown-grace';

describe('WORKER_SHUTDOWN_GRACE_MS', () => {
  it('defaults to 30 s; blank counts as unset', () => {
    expect(DEFAULT_SHUTDOWN_GRACE_MS).toBe(30_000);
    expect(loadShutdownGraceMs({})).toBe(30_000);
    expect(loadShutdownGraceMs({ WORKER_SHUTDOWN_GRACE_MS: '  ' })).toBe(30_000);
  });

  it('takes whole milliseconds, 0 included', () => {
    expect(loadShutdownGraceMs({ WORKER_SHUTDOWN_GRACE_MS: ' 1500 ' })).toBe(1_500);
    expect(loadShutdownGraceMs({ WORKER_SHUTDOWN_GRACE_MS: '0' })).toBe(0);
  });

  it.each([
    ['-1', 'must be a whole number of milliseconds (got "-1")'],
    ['2.5', 'must be a whole number of milliseconds (got "2.5")'],
    ['1e3', 'must be a whole number of milliseconds (got "1e3")'],
    ['86400001', 'must be at most 86400000 (ms) (got "86400001")'],
  ])('refuses %s with a message naming the variable', (value, message) => {
    expect(() => loadShutdownGraceMs({ WORKER_SHUTDOWN_GRACE_MS: value })).toThrow(
      ConfigValidationError,
    );
    expect(() => loadShutdownGraceMs({ WORKER_SHUTDOWN_GRACE_MS: value })).toThrow(
      `WORKER_SHUTDOWN_GRACE_MS ${message}`,
    );
  });
});
