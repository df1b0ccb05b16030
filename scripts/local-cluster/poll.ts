/** Polls a probe until it yields a value, the deadline passes, or `abort` fires. */
import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Fires when `npm start` is being stopped: the wait rejects with its reason. */
  abort?: AbortSignal;
  /** The error message on timeout. */
  what: () => string;
}

export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.abort?.throwIfAborted();
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new Error(`${options.what()} (waited ${Math.round(options.timeoutMs / 1000)} s)`);
    }
    await delay(options.intervalMs ?? 100, undefined, { signal: options.abort });
  }
}
