import {
  HandlerAbortedError,
  MAX_SLEEP_MS,
  NoopHandler,
  PayloadError,
  SleepHandler,
  TaskAbortReason,
} from '../../src/handlers';
import { taskContext } from './task-context';

describe('noop handler', () => {
  const noop = new NoopHandler();

  it('accepts any payload and resolves to {}', async () => {
    const { context } = taskContext();
    expect(noop.type).toBe('noop');
    await expect(noop.run(noop.parse({ anything: [1, 2] }), context)).resolves.toEqual({});
    await expect(noop.run(noop.parse(undefined), context)).resolves.toEqual({});
  });

  it('is cheap enough for throughput benchmarks (50,000 runs well under a second)', async () => {
    const { context } = taskContext();
    const started = performance.now();
    for (let i = 0; i < 50_000; i += 1) {
      await noop.run(noop.parse(null), context);
    }
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('sleep handler', () => {
  const sleep = new SleepHandler();

  it('resolves after ms', async () => {
    const { context } = taskContext();
    const started = performance.now();
    await expect(sleep.run(sleep.parse({ ms: 30 }), context)).resolves.toEqual({ sleptMs: 30 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('accepts 0 and 24 h, refuses anything else naming ms', () => {
    expect(sleep.parse({ ms: 0 })).toEqual({ ms: 0 });
    expect(sleep.parse({ ms: MAX_SLEEP_MS })).toEqual({ ms: 24 * 60 * 60 * 1000 });
    const bad: unknown[] = [{}, { ms: -1 }, { ms: MAX_SLEEP_MS + 1 }, { ms: '10' }, { ms: NaN }];
    for (const payload of bad) {
      expect(() => sleep.parse(payload)).toThrow(PayloadError);
      expect(() => sleep.parse(payload)).toThrow(/payload\.ms /);
    }
    expect(() => sleep.parse({ ms: 1, extra: true })).toThrow(
      /payload\.extra is not a known field/,
    );
    expect(() => sleep.parse('10')).toThrow(/payload must be a JSON object/);
  });

  it('stops promptly when the signal fires, with the signal reason', async () => {
    const { context, controller } = taskContext();
    const started = performance.now();
    const running = sleep.run(sleep.parse({ ms: 60_000 }), context);
    setTimeout(() => controller.abort(new TaskAbortReason('timeout')), 20);
    const error = await running.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HandlerAbortedError);
    expect(error).toMatchObject({ code: 'timeout', message: 'aborted: task timed out' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('rejects at once when the signal has already fired', async () => {
    const { context, controller } = taskContext();
    controller.abort(new TaskAbortReason('cancelled'));
    await expect(sleep.run({ ms: 60_000 }, context)).rejects.toMatchObject({
      name: 'HandlerAbortedError',
      code: 'cancelled',
    });
  });
});
