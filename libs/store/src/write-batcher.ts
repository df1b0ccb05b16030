import { Op, ZkError, changeNoteOp, type ZkOp, type ZkOpResult } from '@app/zk';
import { ZkLayout, type AuditEvent, type JobChange } from '@app/contracts';
import { encodedOutboxOp } from './audit-writer';

/** One logical change: applied atomically, alone or together with others. */
export interface WriteUnit {
  ops: ZkOp[];
  /** Its audit events: they land in the outbox in the same transaction. */
  events?: AuditEvent[];
  /** Tasks the leader must hear about (new, handed back, finished): one queue note per transaction. */
  notify?: QueueNotice[];
  /** Assignments it creates, for the worker's AssignmentNote (one per worker per transaction). */
  assignmentNotes?: Array<{ workerId: string; json: string }>;
  /**
   * What the unit does to `/jobs` and `/jobstate`: every replica's job view
   * follows these through the job change log, one note per transaction.
   */
  jobChanges?: JobChange[];
}

/**
 * A task for the leader's queue note: its id (the leader reads the record), or
 * the record as this unit writes it (`json`, its JSON text) with the version
 * the write gives it, so the leader needs no read (QueueNote).
 */
export type QueueNotice = string | { version: number; json: string };

/** Commits a transaction: `client.multi`, or a leader's fenced multi. */
export type Commit = (ops: ZkOp[]) => Promise<ZkOpResult[]>;

export interface WriteBatcherOptions {
  commit: Commit;
  /** Largest transaction (ZooKeeper refuses requests over jute.maxbuffer, 1 MiB). */
  maxBytes?: number;
  maxOps?: number;
  /**
   * Transactions in flight at once. Changes that arrive meanwhile wait and
   * go together in the next one (group commit): under load transactions grow
   * instead of multiplying; alone, a change is sent at once. Default 2.
   */
  maxInFlight?: number;
}

interface Queued {
  unit: WriteUnit;
  /** `unit.events` as JSON texts (encoded once, for the size estimate and the outbox node). */
  events: string[];
  /** `unit.jobChanges` as JSON array items (encoded once, for the size estimate and the note). */
  jobChanges: string;
  bytes: number;
  resolve(results: ZkOpResult[]): void;
  reject(error: unknown): void;
}

/**
 * Groups the changes submitted in one turn of the event loop into as few
 * `multi()` calls as size allows, with one outbox node, one queue
 * notification and one job change note per transaction: round trips and znodes per change stay small.
 *
 * A unit whose own operation fails (a version check, NodeExists…) is rejected
 * with that typed error (`opIndex` relative to the unit) and the others are
 * committed again without it. Any other failure (connection loss, fencing)
 * rejects every unit of the transaction: their outcome is the transaction's.
 */
export class WriteBatcher {
  private readonly queue: Queued[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBytes: number;
  private readonly maxOps: number;
  private readonly maxInFlight: number;

  constructor(private readonly options: WriteBatcherOptions) {
    this.maxBytes = options.maxBytes ?? 900_000;
    this.maxOps = options.maxOps ?? 2_000;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  /** Resolves with the results of the unit's own operations, in order. */
  submit(unit: WriteUnit): Promise<ZkOpResult[]> {
    const jobChanges = unit.jobChanges?.length
      ? unit.jobChanges.map((change) => JSON.stringify(change)).join(',')
      : '';
    const events = (unit.events ?? []).map((event) => JSON.stringify(event));
    return new Promise((resolve, reject) => {
      this.queue.push({
        unit,
        events,
        jobChanges,
        bytes:
          estimateBytes(unit) +
          events.reduce((sum, event) => sum + event.length + 1, 0) +
          jobChanges.length,
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight++;
    try {
      await this.commitBatch(this.take());
    } finally {
      this.inFlight--;
    }
    if (this.queue.length > 0) this.schedule();
  }

  private async commitBatch(batch: Queued[]): Promise<void> {
    if (this.queue.length > 0) this.schedule();
    let pending = batch;
    while (pending.length > 0) {
      const { ops, ranges } = assemble(pending);
      try {
        const results = await this.options.commit(ops);
        pending.forEach((item, i) => item.resolve(results.slice(ranges[i].start, ranges[i].end)));
        return;
      } catch (error) {
        const culprit = error instanceof ZkError ? unitAt(ranges, error.opIndex) : -1;
        if (culprit < 0) {
          for (const item of pending) item.reject(error);
          return;
        }
        (error as ZkError).opIndex = (error as ZkError).opIndex! - ranges[culprit].start;
        pending[culprit].reject(error);
        pending = pending.filter((_, i) => i !== culprit);
      }
    }
  }

  private take(): Queued[] {
    const batch: Queued[] = [];
    let bytes = 0;
    let ops = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      const nextOps =
        next.unit.ops.length + (next.unit.events?.length ? 1 : 0) + (next.jobChanges ? 1 : 0);
      if (batch.length > 0 && (bytes + next.bytes > this.maxBytes || ops + nextOps > this.maxOps))
        break;
      batch.push(this.queue.shift()!);
      bytes += next.bytes;
      ops += nextOps;
    }
    return batch;
  }
}

interface Range {
  start: number;
  end: number;
}

function assemble(items: readonly Queued[]): { ops: ZkOp[]; ranges: Range[] } {
  const ops: ZkOp[] = [];
  const ranges: Range[] = [];
  const events: string[] = [];
  const ids: string[] = [];
  const records: string[] = [];
  const jobChanges: string[] = [];
  const assignmentNotes = new Map<string, string[]>();
  for (const { unit, events: encodedEvents, jobChanges: encoded } of items) {
    ranges.push({ start: ops.length, end: ops.length + unit.ops.length });
    ops.push(...unit.ops);
    events.push(...encodedEvents);
    for (const notice of unit.notify ?? []) {
      if (typeof notice === 'string') ids.push(notice);
      else records.push(`{"version":${notice.version},"record":${notice.json}}`);
    }
    if (encoded) jobChanges.push(encoded);
    for (const { workerId, json } of unit.assignmentNotes ?? []) {
      const notes = assignmentNotes.get(workerId);
      if (notes) notes.push(json);
      else assignmentNotes.set(workerId, [json]);
    }
  }
  for (const [workerId, notes] of assignmentNotes) {
    // An AssignmentNote, assembled from the units' pre-encoded assignments.
    const note = `{"assignments":[${notes.join(',')}]}`;
    ops.push(Op.create(ZkLayout.assignmentNotePrefix(workerId), note, 'persistent_sequential'));
  }
  if (ids.length + records.length > 0) {
    // A QueueNote, assembled from the units' pre-encoded records.
    const note = `{"ids":${JSON.stringify(ids)},"tasks":[${records.join(',')}]}`;
    ops.push(Op.create(ZkLayout.queueEntryPrefix, note, 'persistent_sequential'));
  }
  if (jobChanges.length > 0) {
    // A JobChangeNote, assembled from the units' pre-encoded changes.
    const note = `{"changes":[${jobChanges.join(',')}]}`;
    ops.push(changeNoteOp(ZkLayout.jobChanges, note));
  }
  if (events.length > 0) ops.push(encodedOutboxOp(events));
  return { ops, ranges };
}

function unitAt(ranges: readonly Range[], opIndex: number | undefined): number {
  if (opIndex === undefined) return -1;
  return ranges.findIndex((r) => opIndex >= r.start && opIndex < r.end);
}

function estimateBytes(unit: WriteUnit): number {
  let bytes = 64;
  for (const op of unit.ops) {
    bytes += 48 + op.path.length;
    if ((op.type === 'create' || op.type === 'set') && op.data) bytes += op.data.length;
  }
  for (const notice of unit.notify ?? []) {
    bytes += typeof notice === 'string' ? notice.length + 3 : notice.json.length + 32;
  }
  for (const note of unit.assignmentNotes ?? []) bytes += note.json.length + 1;
  return bytes;
}
