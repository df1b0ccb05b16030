import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HttpShutdown } from '../src/shutdown/http-shutdown';
import { ShutdownWatch } from '../src/shutdown/shutdown-watch';

@Injectable()
class SlowToClose implements BeforeApplicationShutdown {
  release!: () => void;
  beforeApplicationShutdown(): Promise<void> {
    return new Promise((resolve) => (this.release = resolve));
  }
}

describe('ShutdownWatch', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  test('a shutdown that hangs says which hook it waits for, every 10 s, and when that hook ends', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(
        (message: unknown) => void warnings.push(message as Record<string, unknown>),
      );
    const app = await Test.createTestingModule({
      providers: [ShutdownWatch, HttpShutdown, SlowToClose],
    }).compile();
    await app.init();
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });

    const closed = app.close();
    await jest.advanceTimersByTimeAsync(9_000);
    expect(warnings).toEqual([]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'shutdown still running',
        phase: 'beforeApplicationShutdown',
        waiting: [expect.stringMatching(/^SlowToClose\.beforeApplicationShutdown \(\d+ ms\)$/)],
      }),
    ]);
    await jest.advanceTimersByTimeAsync(2_000);
    app.get(SlowToClose).release();
    await closed;
    expect(warnings[1]).toMatchObject({
      msg: 'slow shutdown step done',
      step: 'SlowToClose.beforeApplicationShutdown',
    });
  });
});
