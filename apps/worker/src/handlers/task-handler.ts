/**
 * The contract between the worker's execution engine and task handlers.
 *
 * Execution is at-least-once: a handler may run again for the same task after
 * a crash or a lost session (with `attempt` + 1 and the same
 * `idempotencyKey`), so side effects must be safe to repeat. A handler
 * resolves to succeed and rejects to fail; the engine decides about retries.
 */

/** Structured log fields; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/** A logger already bound to the task (taskId, attempt, type). */
export interface TaskLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface TaskContext {
  taskId: string;
  jobId?: string;
  /** 1 for the first run; grows with each retry or reassignment. */
  attempt: number;
  /** Stable across attempts: key side effects on it so a re-run does not duplicate them. */
  idempotencyKey: string;
  /**
   * Fires on timeout, cancellation, or loss of the worker's ZooKeeper session;
   * `signal.reason` says which (a `TaskAbortReason` when the engine sets it).
   */
  signal: AbortSignal;
  logger: TaskLogger;
  /** Present for gang tasks: this member's place in the gang. */
  gang?: { size: number; index: number };
}

export interface TaskHandler<P = unknown, R = unknown> {
  /** The task type this handler runs; must equal the `@TaskHandlerType` of its class. */
  readonly type: string;
  /** Validate and normalise the payload; throw PayloadError (message names the field) for bad input. */
  parse(payload: unknown): P;
  /** Resolve = succeeded (R is the JSON result, keep it small); reject = failed. */
  run(payload: P, context: TaskContext): Promise<R>;
}

/**
 * Bad input: retrying cannot help. `field` is the dotted path inside the
 * payload (`url`, `headers.X-Foo`; empty for the payload as a whole).
 */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';

  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(field === '' ? `payload ${problem}` : `payload.${field} ${problem}`);
  }
}

/** Why the engine aborted a task; use as the reason of the AbortController. */
export type TaskAbortCode = 'timeout' | 'cancelled' | 'worker_lost';

/** A reason object for `AbortController.abort(reason)` that says which abort it was. */
export class TaskAbortReason extends Error {
  override readonly name = 'TaskAbortReason';

  constructor(
    readonly code: TaskAbortCode,
    message: string = defaultAbortMessage(code),
  ) {
    super(message);
  }
}

function defaultAbortMessage(code: TaskAbortCode): string {
  switch (code) {
    case 'timeout':
      return 'task timed out';
    case 'cancelled':
      return 'task was cancelled';
    case 'worker_lost':
      return "the worker's ZooKeeper session was lost";
  }
}

/** Thrown by a handler when its signal aborted the work; carries the signal's reason. */
export class HandlerAbortedError extends Error {
  override readonly name = 'HandlerAbortedError';
  /** The `TaskAbortReason` code, when the reason was one. */
  readonly code: TaskAbortCode | undefined;

  constructor(readonly reason: unknown) {
    super(`aborted: ${describeReason(reason)}`, { cause: reason });
    this.code = reason instanceof TaskAbortReason ? reason.code : undefined;
  }
}

function describeReason(reason: unknown): string {
  // Duck-typed: the default reason is a DOMException, not always an Error of this realm.
  const message = (reason as { message?: unknown } | null)?.message;
  if (typeof message === 'string') {
    return message;
  }
  return reason === undefined ? 'no reason given' : String(reason);
}

/** Throws HandlerAbortedError when the signal has fired (use between steps of long work). */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) {
    throw new HandlerAbortedError(signal.reason);
  }
}
