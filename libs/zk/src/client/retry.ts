import { Backoff } from './backoff';
import { isRetryable } from './errors';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 50,
  maxDelayMs: 1_000,
};

/** Retries `operation` after retryable errors with capped exponential backoff and jitter. */
export async function withRetry<T>(
  operation: () => Promise<T>,
  policy: RetryPolicy,
  isClosed: () => boolean = () => false,
): Promise<T> {
  const backoff = new Backoff({ minMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: 0.5 });
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isRetryable(error) || attempt >= policy.maxAttempts || isClosed()) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoff.next()));
    }
  }
}
