import { TaskAbortReason, type TaskAbortCode } from '../handlers/task-handler';

/** Why the engine aborted a task: decides what it reports afterwards. */
export type AbortKind = 'timeout' | 'cancelled' | 'session_lost' | 'shutdown';

/**
 * The reason given to a task's AbortController. It is a `TaskAbortReason` (the
 * handlers' contract, whose codes are `timeout`/`cancelled`/`worker_lost`) so a
 * handler understands it; `kind` keeps the engine's finer reason
 * (`session_lost`, `shutdown`).
 */
export class WorkerAbortReason extends TaskAbortReason {
  constructor(
    readonly kind: AbortKind,
    message: string = MESSAGES[kind],
  ) {
    super(HANDLER_CODES[kind], message);
  }
}

const HANDLER_CODES: Record<AbortKind, TaskAbortCode> = {
  timeout: 'timeout',
  cancelled: 'cancelled',
  session_lost: 'worker_lost',
  // The attempt ends here and goes back to the leader: for the handler, a cancellation.
  shutdown: 'cancelled',
};

const MESSAGES: Record<AbortKind, string> = {
  timeout: 'task timed out',
  cancelled: 'the assignment was revoked (cancelled, reassigned or timed out by the leader)',
  session_lost: "the worker's ZooKeeper session was lost",
  shutdown: 'the worker is shutting down; the task is handed back',
};
