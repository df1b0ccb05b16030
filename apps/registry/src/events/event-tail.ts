import { Wakeup } from '@app/zk';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AUDIT_STORE, type AuditStore, type StoredAuditEvent } from '@app/audit';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../config/registry-settings';
import { AuditDrainService } from '../audit-drain/audit-drain.service';
import { errorText } from '../audit-drain/error-text';

/** Recent events kept in memory for the streams that keep up (all clients share them). */
const RING_SIZE = 5_000;
/** Rows per read from PostgreSQL (the store's page limit is 1,000). */
const READ_LIMIT = 1_000;

/**
 * The tail of `audit_events` for the live streams of this registry: one loop
 * per process (only while someone listens) reads the rows after the newest it
 * has, every `eventsPollMs`, or at once when this registry's own drain has
 * stored a batch. It keeps the last RING_SIZE events: a client at the head is
 * served from memory, a client further behind (resuming after a gap) reads
 * PostgreSQL directly. Memory is bounded whatever the number of clients.
 */
@Injectable()
export class EventTail implements OnModuleDestroy {
  private readonly logger = new Logger('EventTail');
  private ring: StoredAuditEvent[] = [];
  /** Highest seq read from the store; undefined until the loop first runs. */
  private head: bigint | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly wake = new Wakeup();
  private loop: Promise<void> | undefined;
  private closed = false;
  private readonly shutdown = new AbortController();
  private readonly unsubscribeDrain: () => void;

  constructor(
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    drain: AuditDrainService,
  ) {
    this.unsubscribeDrain = drain.onStored(() => this.wake.signal());
  }

  /**
   * Aborted when the application shuts down: live streams end then, or the
   * HTTP server would wait for them for ever before closing.
   */
  get closing(): AbortSignal {
    return this.shutdown.signal;
  }

  /** The newest seq stored now: where a stream without a resume point starts. */
  lastSeq(): Promise<string> {
    return this.store.lastSeq();
  }

  /** Calls `listener` whenever new events have been read. Starts the loop if needed. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    this.ensureLoop();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Up to `limit` events after `after`, in seq order: from memory when it has them. */
  async read(after: string, limit: number): Promise<StoredAuditEvent[]> {
    const from = BigInt(after);
    const first = this.ring[0];
    if (first !== undefined && this.head !== undefined && from >= BigInt(first.seq) - 1n) {
      if (from >= this.head) return [];
      const start = this.indexAfter(from);
      return this.ring.slice(start, start + limit);
    }
    if (this.head !== undefined && from >= this.head) return [];
    return this.store.eventsAfter(after, Math.min(limit, READ_LIMIT));
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.shutdown.abort();
    this.unsubscribeDrain();
    this.listeners.clear();
    this.wake.signal();
    await this.loop;
  }

  private ensureLoop(): void {
    if (this.loop || this.closed || this.listeners.size === 0) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      // A listener that came while the loop was ending must not be left waiting.
      this.ensureLoop();
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed && this.listeners.size > 0) {
      try {
        if (this.head === undefined) this.head = BigInt(await this.store.lastSeq());
        const events = await this.store.eventsAfter(this.head.toString(), READ_LIMIT);
        failures = 0;
        if (events.length > 0) {
          this.append(events);
          for (const listener of [...this.listeners]) listener();
          if (events.length === READ_LIMIT) continue; // more are waiting
        }
        await this.wake.wait(this.settings.eventsPollMs);
      } catch (error) {
        failures += 1;
        if (failures === 1 || failures % 20 === 0) {
          this.logger.warn({
            msg: 'cannot read new audit events; retrying',
            error: errorText(error),
          });
        }
        await this.wake.wait(Math.min(this.settings.eventsPollMs * 2 ** failures, 5_000));
      }
    }
    // Nobody listens: forget the tail, so that the next listener starts from a fresh head.
    this.ring = [];
    this.head = undefined;
  }

  private append(events: readonly StoredAuditEvent[]): void {
    this.ring.push(...events);
    if (this.ring.length > RING_SIZE) this.ring = this.ring.slice(this.ring.length - RING_SIZE);
    this.head = BigInt(events[events.length - 1].seq);
  }

  /** Index of the first ring event with seq > `after` (the ring is sorted). */
  private indexAfter(after: bigint): number {
    let low = 0;
    let high = this.ring.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (BigInt(this.ring[mid].seq) <= after) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
