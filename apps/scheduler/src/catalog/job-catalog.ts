import {
  ChangeLogFollower,
  NoNodeError,
  TypedEmitter,
  type ChangeNote,
  type ZkClient,
  type ZkOp,
} from '@app/zk';
import {
  ZkLayout,
  type JobChange,
  type JobChangeNote,
  type JobRecord,
  type JobState,
} from '@app/contracts';
import { decodeJson } from '@app/store';
import type { ScheduleFactory } from '../timing/schedule-factory';
import {
  newEntry,
  releaseEntry,
  setDefinition,
  setState,
  type CatalogEntry,
} from './catalog-entry';
import { InternPool } from './intern-pool';

export interface JobCatalogEvents {
  [event: string]: unknown[];
  /** A job was created or its definition changed (not its leader state). */
  changed: [entry: CatalogEntry];
  /** A job was deleted: its last entry. */
  deleted: [entry: CatalogEntry];
  /** Rebuilt from ZooKeeper: any entry may have changed or gone. */
  rebuilt: [];
}

export interface CatalogLogger {
  log(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
}

interface StoredJob {
  record: JobRecord;
  version: number;
  state?: { state: JobState; version: number };
}

/** Jobs read at once while rebuilding. */
const READ_CHUNK = 500;
const REBUILD_RETRY_MS = 1_000;

/**
 * The job view every scheduler replica keeps, leader and standbys alike: one
 * compact CatalogEntry per job (definition, leader state, first instant due),
 * built from `/jobs` and `/jobstate`, then kept current by the job change log
 * (`/jobchanges`, one children watch): every write of a job or of its state
 * appends its JobChange to the log in the same transaction.
 *
 * Guarantees: after `catchUp()` resolves, every job change committed before
 * the call is in the catalog. Changes are applied by version (a change older
 * than the entry is ignored), so a change seen twice (by a rebuild's reads and
 * by its note) is harmless, and a deletion is final (job ids are never reused).
 *
 * Failure modes: when the log's collector deleted notes this replica had not
 * read (it was away longer than they are kept), the catalog rebuilds from the
 * nodes (`rebuilt`); until then `isCurrent` is false and `catchUp` waits.
 */
export class JobCatalog extends TypedEmitter<JobCatalogEvents> {
  private entries = new Map<string, CatalogEntry>();
  private strings = new InternPool();
  private readonly follower: ChangeLogFollower;
  /** While a rebuild reads the nodes: the changes that arrive meanwhile, applied after it. */
  private buffered: JobChange[] | undefined = [];
  private rebuildRound = 0;
  private readonly builtWaiters: Array<() => void> = [];
  private builtOnce = false;
  private closed = false;

  constructor(
    private readonly client: ZkClient,
    private readonly scheduleFor: ScheduleFactory,
    private readonly logger: CatalogLogger,
  ) {
    super();
    this.follower = new ChangeLogFollower(client, ZkLayout.jobChanges);
    this.follower.on('reset', () => this.rebuild());
    this.follower.on('notes', (notes) => this.onNotes(notes));
  }

  /** Follows the log and builds the catalog; resolves once it is built. */
  async start(): Promise<void> {
    await this.follower.start();
    await this.whenBuilt();
  }

  close(): void {
    this.closed = true;
    this.rebuildRound++;
    this.follower.close();
    for (const resolve of this.builtWaiters.splice(0)) resolve();
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): CatalogEntry | undefined {
    return this.entries.get(id);
  }

  values(): IterableIterator<CatalogEntry> {
    return this.entries.values();
  }

  /** Built, following the log with no connection trouble since, and not rebuilding. */
  get isCurrent(): boolean {
    return this.follower.isCurrent && this.buffered === undefined;
  }

  /** Built at least once (it may be rebuilding now). */
  get hasBuilt(): boolean {
    return this.builtOnce;
  }

  /** Resolves once every job change committed before the call is in the catalog. */
  async catchUp(): Promise<void> {
    await this.follower.catchUp();
    await this.whenBuilt();
  }

  /**
   * A change this replica committed itself (an API write, the leader's state):
   * applied at once rather than when its note arrives, so the replica reads its
   * own writes.
   */
  record(change: JobChange): void {
    this.apply(change);
  }

  /**
   * The leader state as just read from ZooKeeper (undefined: no node), after a
   * refused write showed the entry's was stale.
   */
  replaceState(id: string, stored: { state: JobState; version: number } | undefined): void {
    const entry = this.entries.get(id);
    if (entry) setState(entry, stored?.version ?? -1, stored?.state, this.scheduleFor);
  }

  /** Deletes the log's notes older than `olderThanMs` with the collector's `commit` (the leader's). */
  collectChanges(olderThanMs: number, commit: (ops: ZkOp[]) => Promise<unknown>): Promise<number> {
    return this.follower.collect(olderThanMs, commit);
  }

  // ---- following the log ------------------------------------------------------------

  private onNotes(notes: readonly ChangeNote[]): void {
    for (const note of notes) {
      let decoded: JobChangeNote;
      try {
        decoded = decodeJson<JobChangeNote>(note.data);
      } catch (error) {
        this.logger.warn('unreadable job change note; rebuilding the job view', {
          seq: note.seq,
          error: String(error),
        });
        this.rebuild();
        return;
      }
      for (const change of decoded.changes) this.apply(change);
    }
  }

  private apply(change: JobChange): void {
    if (this.buffered) this.buffered.push(change);
    else this.applyNow(change, true);
  }

  private applyNow(change: JobChange, announce: boolean): void {
    if ('job' in change) {
      const { job, version } = change;
      let entry = this.entries.get(job.id);
      if (entry && entry.version >= version) return;
      if (entry) setDefinition(entry, job, version, this.strings, this.scheduleFor);
      else {
        entry = newEntry(job, version, this.strings, this.scheduleFor);
        this.entries.set(entry.id, entry);
      }
      if (announce) this.emit('changed', entry);
    } else if ('stateOf' in change) {
      const entry = this.entries.get(change.stateOf);
      if (!entry || entry.stateVersion >= change.version) return;
      setState(entry, change.version, change.state, this.scheduleFor);
    } else {
      const entry = this.entries.get(change.deleted);
      if (!entry) return;
      releaseEntry(entry, this.strings);
      this.entries.delete(change.deleted);
      if (announce) this.emit('deleted', entry);
    }
  }

  // ---- rebuilding -----------------------------------------------------------------

  private rebuild(): void {
    const round = ++this.rebuildRound;
    this.buffered = [];
    void this.readAll(round);
  }

  /**
   * Reads every job and its state into a new map, then applies the changes that
   * arrived meanwhile: the reads started after the log position was taken, so
   * together they hold every change.
   */
  private async readAll(round: number): Promise<void> {
    const started = Date.now();
    try {
      const entries = new Map<string, CatalogEntry>();
      const strings = new InternPool();
      const [jobs, states] = await Promise.all([
        this.client.children(ZkLayout.jobs),
        this.client.children(ZkLayout.jobStates),
      ]);
      const stated = new Set(states.children);
      for (let i = 0; i < jobs.children.length; i += READ_CHUNK) {
        const chunk = jobs.children.slice(i, i + READ_CHUNK);
        const stored = await Promise.all(chunk.map((id) => this.readJob(id, stated.has(id))));
        if (round !== this.rebuildRound) return;
        for (const job of stored) {
          if (!job) continue;
          const entry = newEntry(job.record, job.version, strings, this.scheduleFor, job.state);
          entries.set(entry.id, entry);
        }
      }
      if (round !== this.rebuildRound) return;
      this.entries = entries;
      this.strings = strings;
      const buffered = this.buffered ?? [];
      this.buffered = undefined;
      for (const change of buffered) this.applyNow(change, false);
      this.builtOnce = true;
      this.logger.log('job view built', { jobs: entries.size, ms: Date.now() - started });
      for (const resolve of this.builtWaiters.splice(0)) resolve();
      this.emit('rebuilt');
    } catch (error) {
      if (round !== this.rebuildRound || this.closed) return;
      this.logger.warn('could not read the jobs; retrying', { error: String(error) });
      setTimeout(() => {
        if (round === this.rebuildRound && !this.closed) void this.readAll(round);
      }, REBUILD_RETRY_MS);
    }
  }

  private async readJob(id: string, hasState: boolean): Promise<StoredJob | undefined> {
    const [job, state] = await Promise.all([
      this.read(ZkLayout.job(id)),
      hasState ? this.read(ZkLayout.jobState(id)) : undefined,
    ]);
    if (!job) return undefined;
    return {
      record: decodeJson<JobRecord>(job.data),
      version: job.stat.version,
      ...(state
        ? { state: { state: decodeJson<JobState>(state.data), version: state.stat.version } }
        : {}),
    };
  }

  private async read(
    path: string,
  ): Promise<{ data: Buffer; stat: { version: number } } | undefined> {
    try {
      return await this.client.get(path);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  private whenBuilt(): Promise<void> {
    if (this.buffered === undefined || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.builtWaiters.push(resolve));
  }
}
