/**
 * Test timing: every wait in the harness and in integration tests is written as
 * a nominal duration and scaled by ONE environment variable, `ZK_TEST_TIMING`
 * (a positive multiplier, default 1). A slow CI machine sets
 * `ZK_TEST_TIMING=3` instead of every test growing its own timeouts.
 *
 * Tests wait for conditions (`waitFor`) or events (`EventQueue`), never for a
 * fixed time: `sleep` exists for pacing (e.g. "let a watcher fire if it were
 * going to"), not for synchronisation.
 */

export const TIMING_ENV_VARIABLE = 'ZK_TEST_TIMING';

export interface WaitForOptions {
  /** Nominal timeout (scaled by the multiplier). Default 10 000 ms. */
  timeoutMs?: number;
  /** Polling interval, not scaled. Default 25 ms. */
  intervalMs?: number;
  /** What the failure says; a function is evaluated only on failure (it may gather state asynchronously). */
  message?: string | (() => string | Promise<string>);
}

/** A predicate result counts as "done" when it is neither false, null nor undefined. */
export type WaitForResult<T> = T | false | null | undefined;

export class WaitTimeoutError extends Error {
  constructor(
    message: string,
    readonly timeoutMs: number,
    readonly lastError?: unknown,
  ) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

function parseMultiplier(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') {
    return 1;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `${TIMING_ENV_VARIABLE} must be a positive number (a multiplier for test timeouts), got "${raw}"`,
    );
  }
  return value;
}

async function describe(message: WaitForOptions['message'], fallback: string): Promise<string> {
  if (typeof message === 'function') {
    try {
      return await message();
    } catch (error: unknown) {
      return `${fallback} (message failed: ${error instanceof Error ? error.message : String(error)})`;
    }
  }
  return message ?? fallback;
}

export class Timing {
  constructor(readonly multiplier = 1) {
    if (!Number.isFinite(multiplier) || multiplier <= 0) {
      throw new Error(`timing multiplier must be a positive number, got ${multiplier}`);
    }
  }

  /** The multiplier from `ZK_TEST_TIMING` (default 1); a bad value throws, naming the variable. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): Timing {
    return new Timing(parseMultiplier(env[TIMING_ENV_VARIABLE]));
  }

  /** A nominal duration scaled by the multiplier (rounded up to whole ms). */
  ms(nominalMs: number): number {
    return Math.ceil(nominalMs * this.multiplier);
  }

  /** Sleeps for the scaled duration. For pacing only; wait for conditions with `waitFor`. */
  sleep(nominalMs: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.ms(nominalMs)));
  }

  /**
   * Polls `predicate` until it returns a value other than false/null/undefined
   * and resolves with that value. Errors thrown by the predicate count as "not
   * yet" (the last one is attached to the timeout error). Fails with
   * `message` after the scaled timeout.
   */
  async waitFor<T>(
    predicate: () => WaitForResult<T> | Promise<WaitForResult<T>>,
    options: WaitForOptions = {},
  ): Promise<T> {
    const timeoutMs = this.ms(options.timeoutMs ?? 10_000);
    const intervalMs = options.intervalMs ?? 25;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const result = await predicate();
        if (result !== false && result !== null && result !== undefined) {
          return result;
        }
      } catch (error: unknown) {
        lastError = error;
      }
      if (Date.now() >= deadline) {
        const base = await describe(options.message, 'condition not met');
        const cause =
          lastError === undefined
            ? ''
            : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
        throw new WaitTimeoutError(
          `${base}: timed out after ${timeoutMs} ms${cause}`,
          timeoutMs,
          lastError,
        );
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))),
      );
    }
  }

  /**
   * Resolves or rejects like `promise`, or rejects with a `WaitTimeoutError`
   * after the scaled timeout. The promise itself is not cancelled.
   */
  withTimeout<T>(promise: Promise<T>, nominalMs: number, message: string): Promise<T> {
    const timeoutMs = this.ms(nominalMs);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new WaitTimeoutError(`${message}: timed out after ${timeoutMs} ms`, timeoutMs)),
        timeoutMs,
      );
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}

/** The process-wide timing, from `ZK_TEST_TIMING`. */
export const timing: Timing = Timing.fromEnv();

interface Waiter<T> {
  matches: (event: T) => boolean;
  resolve: (event: T) => void;
}

/**
 * Collects events pushed from listeners so a test can await them in order
 * instead of sleeping. `push` is a bound function, so it can be passed as a
 * listener directly: `client.on('expired', () => queue.push('expired'))` or
 * `emitter.on('changed', queue.push)`.
 *
 * `next` consumes the oldest event; `nextMatching` consumes the oldest
 * matching event and discards every non-matching event received before it
 * (they are what the test chose to skip). Timeouts are nominal and scaled.
 */
export class EventQueue<T> {
  private readonly events: T[] = [];
  private readonly waiters: Waiter<T>[] = [];

  constructor(
    private readonly clock: Timing = timing,
    private readonly defaultTimeoutMs = 10_000,
  ) {}

  readonly push = (event: T): void => {
    const index = this.waiters.findIndex((waiter) => waiter.matches(event));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter.resolve(event);
      return;
    }
    this.events.push(event);
  };

  /** Events received and not consumed yet. */
  get size(): number {
    return this.events.length;
  }

  /** Removes and returns every pending event. */
  drain(): T[] {
    return this.events.splice(0, this.events.length);
  }

  next(timeoutMs?: number): Promise<T> {
    return this.nextMatching(() => true, timeoutMs, 'next event');
  }

  nextMatching(
    predicate: (event: T) => boolean,
    timeoutMs?: number,
    description = 'matching event',
  ): Promise<T> {
    const index = this.events.findIndex(predicate);
    if (index >= 0) {
      const event = this.events[index];
      this.events.splice(0, index + 1);
      return Promise.resolve(event);
    }
    // Nothing matches: what is queued now is skipped.
    this.events.length = 0;
    const scaled = this.clock.ms(timeoutMs ?? this.defaultTimeoutMs);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        matches: predicate,
        resolve: (event) => {
          clearTimeout(timer);
          // Events that arrived while waiting did not match: skipped too.
          this.events.length = 0;
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        const position = this.waiters.indexOf(waiter);
        if (position >= 0) {
          this.waiters.splice(position, 1);
        }
        reject(new WaitTimeoutError(`EventQueue: no ${description} within ${scaled} ms`, scaled));
      }, scaled);
      this.waiters.push(waiter);
    });
  }
}
