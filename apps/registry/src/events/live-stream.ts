import { Wakeup } from '@app/zk';
import type { StoredAuditEvent } from '@app/audit';
import type { AuditEventType } from '@app/contracts';
import type { EventTail } from './event-tail';

export interface LiveFilter {
  jobId?: string;
  taskId?: string;
  workerId?: string;
  type?: AuditEventType;
}

export interface LiveStreamOptions {
  tail: EventTail;
  /** Deliver the events after this seq. */
  after: string;
  filter: LiveFilter;
  signal: AbortSignal;
  /** Writes events out; resolves once the transport can take more (backpressure). */
  deliver: (events: StoredAuditEvent[]) => Promise<void>;
  /** PostgreSQL could not be read (the stream goes on trying). */
  onTrouble?: (error: unknown) => void;
}

/** Events per read: also the most a stream holds in memory at once. */
const PAGE = 500;
const MAX_RETRY_MS = 5_000;

/**
 * Feeds one live stream (SSE or gRPC) from the shared EventTail, in seq order,
 * from `after` on, until `signal` aborts. It never holds more than one page:
 * the next read waits until `deliver` resolves, so a slow client slows its own
 * stream only. Filtered-out events still move the cursor.
 */
export async function pumpLiveEvents(options: LiveStreamOptions): Promise<void> {
  const { tail, filter, signal } = options;
  const wake = new Wakeup();
  const unsubscribe = tail.subscribe(wake.signal);
  const onAbort = (): void => wake.signal();
  signal.addEventListener('abort', onAbort);
  let cursor = options.after;
  let failures = 0;
  try {
    while (!signal.aborted) {
      let events: StoredAuditEvent[];
      try {
        events = await tail.read(cursor, PAGE);
        failures = 0;
      } catch (error) {
        failures += 1;
        options.onTrouble?.(error);
        await wake.wait(Math.min(250 * 2 ** failures, MAX_RETRY_MS));
        continue;
      }
      if (events.length === 0) {
        await wake.wait();
        continue;
      }
      cursor = events[events.length - 1].seq;
      const wanted = events.filter((event) => matches(event, filter));
      if (wanted.length > 0 && !signal.aborted) await options.deliver(wanted);
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}

export function matches(event: StoredAuditEvent, filter: LiveFilter): boolean {
  return (
    (filter.jobId === undefined || event.jobId === filter.jobId) &&
    (filter.taskId === undefined || event.taskId === filter.taskId) &&
    (filter.workerId === undefined || event.workerId === filter.workerId) &&
    (filter.type === undefined || event.type === filter.type)
  );
}
