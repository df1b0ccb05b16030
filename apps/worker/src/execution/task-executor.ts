import { Logger } from '@nestjs/common';
import {
  ClientClosedError,
  NoNodeError,
  Op,
  SessionExpiredError,
  type WatchEvent,
  type ZkClient,
} from '@app/zk';
import { ZkLayout, type Assignment, type TaskRecord } from '@app/contracts';
import { TaskWrites, type AuditWriter, type WriteBatcher } from '@app/store';
import { admit, parseAssignment, parseAssignmentNote } from './admission';
import { Execution, IGNORED, type Marker } from './execution';
import type { GangPlace } from './held-task';
import { ReportChanges } from './report-changes';
import { StatusReporter } from './status-reporter';
import { messageOf } from './stored-outcome';
import { TaskRunner, type HandlerLookup } from './task-runner';
import type { WorkerMetrics } from './worker-metrics';

export interface TaskExecutorOptions {
  workerId: string;
  /** Tasks run at once; the leader never assigns more, this is a local guard. */
  capacity: number;
  client: ZkClient;
  writes: WriteBatcher;
  audit: AuditWriter;
  handlers: HandlerLookup;
  metrics: WorkerMetrics;
  /** Asks the assignment watcher for a fresh listing. */
  relist: () => void;
}

/**
 * Admits what `/assign/<me>` holds (protocol steps 3 and 9): reads each new
 * assignment, admits it when the protocol allows and hands it to the
 * TaskRunner; gives attempts up when the session ends, hands back at shutdown.
 *
 * Every assignment listed is in `entries` until a listing no longer shows it:
 * an Execution, or a Marker (being read / not ours to run). An assignment
 * that vanishes while its task runs aborts the handler (`cancelled`).
 *
 * The records come from the leader's notes beside the assignments
 * (AssignmentNote, one per leader transaction): one read per batch, then the
 * note is deleted. A newer attempt in a note for a task held at an older one
 * means the assignment went and came back between two listings: the old
 * attempt is aborted. An assignment no note explains (a note lost, a gang) is
 * read itself, with a data watch that notices its deletion even when the
 * leader re-creates the node before the next listing.
 */
export class TaskExecutor {
  private readonly logger = new Logger(TaskExecutor.name);
  private readonly entries = new Map<string, Execution | Marker>();
  /**
   * Attempts this worker gave up (session lost, status write rejected): never
   * run again, even if their assignment is still listed; only a new attempt is.
   */
  private readonly givenUp = new Map<string, number>();
  /** Ids in `givenUp` whose attempt was given up on a session that has ended since. */
  private readonly givenUpOnLostSession = new Set<string>();
  private draining = false;
  /** Admissions and reports in progress: shutdown waits for them. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly changes: ReportChanges;
  private readonly reporter: StatusReporter;
  private readonly tasks: TaskWrites;
  private readonly runner: TaskRunner;
  private readonly workerId: string;
  private readonly client: ZkClient;
  /** What the notes said of each listed task (its newest attempt), until it leaves the listing. */
  private readonly carried = new Map<string, Required<Assignment>>();
  /** Notes read or being read, until a listing no longer shows them (deleted). */
  private readonly notesSeen = new Set<string>();
  /** Note reads in flight: an admission waits for them before it reads anything itself. */
  private readonly noteReads = new Set<Promise<void>>();

  constructor(private readonly options: TaskExecutorOptions) {
    this.workerId = options.workerId;
    this.client = options.client;
    this.changes = new ReportChanges(options.audit, options.workerId);
    this.tasks = new TaskWrites(options.client, options.writes);
    this.reporter = new StatusReporter(this.tasks, this.changes, options.workerId, (task) =>
      this.runner.onStartRejected(task),
    );
    this.runner = new TaskRunner({
      ...options,
      changes: this.changes,
      reporter: this.reporter,
      draining: () => this.draining,
      forget: (execution) => this.forget(execution),
      track: (work) => this.track(work),
    });
  }

  /** Tasks whose handler holds a slot now. */
  get running(): number {
    return this.runner.running;
  }

  /** Attempts admitted and not settled: waiting for runAt, queued or running. */
  get held(): number {
    let count = 0;
    for (const entry of this.entries.values()) {
      if (entry instanceof Execution && !entry.settled) count++;
    }
    return count;
  }

  /** Diffs a listing of `/assign/<me>` (assignments and notes) against what this worker holds. */
  onListing(children: readonly string[]): void {
    const notes = new Set<string>();
    const present = new Set<string>();
    for (const name of children) (ZkLayout.isAssignmentNote(name) ? notes : present).add(name);
    for (const [id, entry] of this.entries) {
      if (!present.has(id)) this.vanished(id, entry);
    }
    for (const id of this.carried.keys()) if (!present.has(id)) this.carried.delete(id);
    for (const name of this.notesSeen) if (!notes.has(name)) this.notesSeen.delete(name);
    const fresh = [...notes].filter((name) => !this.notesSeen.has(name));
    if (fresh.length > 0) this.readNotes(fresh);
    for (const id of present) {
      if (!this.entries.has(id)) this.track(this.admit(id));
    }
  }

  /**
   * A note was just created in the inbox (its persistent watch said so): read
   * now, beside the listing that the same change triggers, not after it.
   */
  onNoteCreated(name: string): void {
    if (!this.notesSeen.has(name)) this.readNotes([name]);
  }

  /** The session ended: every task is given up; the leader reassigns them. */
  dropAll(): void {
    let dropped = 0;
    for (const [id, entry] of this.entries) {
      if (!(entry instanceof Execution)) {
        // Still being read: kept, so the read's answer is taken as given up
        // and the next session's listing does not admit it afresh.
        if (entry.kind === 'admitting') entry.dropped = true;
        else this.entries.delete(id);
        continue;
      }
      if (!entry.settled) {
        this.runner.abort(entry, 'session_lost');
        dropped++;
      }
      entry.dropped = true;
      this.givenUp.set(entry.id, entry.attempt);
      this.entries.delete(id);
    }
    this.runner.clearQueued();
    for (const id of this.givenUp.keys()) this.givenUpOnLostSession.add(id);
    if (dropped > 0) {
      this.logger.warn({ msg: 'ZooKeeper session lost: aborted every task held', dropped });
    }
  }

  /**
   * Shutdown: nothing new starts; tasks not started yet go back at once;
   * running ones get `graceMs` to finish, then are aborted and handed back.
   * Resolves when every write is done.
   */
  async drain(graceMs: number): Promise<{ handedBack: number }> {
    this.draining = true;
    let handedBack = 0;
    for (const entry of this.entries.values()) {
      if (entry instanceof Execution && !entry.settled && !entry.slot) {
        this.runner.abort(entry, 'shutdown');
        handedBack++;
      }
    }
    await this.runner.whenIdle(graceMs);
    for (const entry of this.entries.values()) {
      if (entry instanceof Execution && !entry.settled) {
        this.runner.abort(entry, 'shutdown');
        handedBack++;
      }
    }
    // The session closes next: nobody needs to wait for this worker at a barrier.
    await this.runner.closeBarriers();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    return { handedBack };
  }

  // ---- admission ---------------------------------------------------------------------

  /** Reads new notes (in one go), learns their assignments, deletes them. */
  private readNotes(names: readonly string[]): void {
    for (const name of names) this.notesSeen.add(name);
    const dir = ZkLayout.assignments(this.workerId);
    const read = Promise.all(
      names.map(async (name) => {
        const path = `${dir}/${name}`;
        let data: Buffer;
        try {
          ({ data } = await this.client.get(path));
        } catch (error) {
          // Unread for now: a later listing tries again; admissions read their assignments.
          if (!(error instanceof NoNodeError)) this.notesSeen.delete(name);
          return;
        }
        for (const assignment of parseAssignmentNote(data)) this.learn(assignment);
        // Its work is done (a note lost costs a read per task, nothing else).
        this.options.writes.submit({ ops: [Op.delete(path)] }).catch((error: unknown) => {
          if (error instanceof NoNodeError || error instanceof ClientClosedError) return;
          // Still there (the delete went with the link or the session, or was
          // refused): read again on a later listing and deleted then, else it
          // would stay for this process's life (chaos seed 99153971).
          this.notesSeen.delete(name);
          setTimeout(this.options.relist, 500).unref();
        });
      }),
    ).then(() => undefined);
    this.noteReads.add(read);
    void read.finally(() => this.noteReads.delete(read));
  }

  private learn(assignment: Required<Assignment>): void {
    const id = assignment.record.id;
    const known = this.carried.get(id);
    if (known && known.attempt >= assignment.attempt) return;
    const entry = this.entries.get(id);
    const superseded =
      entry instanceof Execution ? entry.attempt < assignment.attempt : entry === IGNORED;
    if (entry !== undefined && superseded) {
      // The assignment went and came back (a new attempt) between two listings.
      this.vanished(id, entry);
      this.carried.set(id, assignment);
      this.track(this.admit(id));
      return;
    }
    this.carried.set(id, assignment);
  }

  private async admit(id: string, dropped = false): Promise<void> {
    const ticket: Marker = { kind: 'admitting', dropped };
    this.entries.set(id, ticket);
    let parsed: Assignment | undefined;
    let record: TaskRecord;
    let version: number;
    try {
      // The note of every assignment listed is in the same listing: its read began already.
      if (this.noteReads.size > 0) await Promise.all([...this.noteReads]);
      if (this.entries.get(id) !== ticket) return; // vanished, or the session ended, meanwhile
      // A note's record is valid while its assignment exists, as the node's own (below).
      const carried = this.carried.get(id);
      if (carried) {
        parsed = carried;
      } else {
        const assignment = await this.client.get(
          ZkLayout.assignment(this.workerId, id),
          this.onAssignmentEvent,
        );
        if (this.entries.get(id) !== ticket) return; // vanished, or the session ended, meanwhile
        parsed = parseAssignment(assignment.data);
      }
      if (parsed === undefined) {
        this.ignore(id, 'the assignment holds no attempt number');
        return;
      }
      // The assignment carries the record as assigned, valid while it exists; a
      // gang's record moves with its other members, so a gang member reads it.
      if (parsed.record && parsed.taskVersion !== undefined && parsed.record.parallelism <= 1) {
        record = parsed.record;
        version = parsed.taskVersion;
      } else {
        const task = await this.tasks.read(id);
        if (this.entries.get(id) !== ticket) return;
        if (task === undefined) {
          this.ignore(id, 'the task node does not exist');
          return;
        }
        ({ record, version } = task);
      }
    } catch (error) {
      if (this.entries.get(id) !== ticket) return;
      if (error instanceof SyntaxError) {
        this.ignore(id, 'the task record is not JSON');
      } else if (error instanceof NoNodeError) {
        this.entries.delete(id); // the assignment went already
        this.givenUp.delete(id);
        this.givenUpOnLostSession.delete(id);
      } else if (error instanceof ClientClosedError) {
        this.entries.delete(id);
      } else if (ticket.dropped) {
        // Its attempt is still to be learnt (and given up): read again, on the next session.
        setTimeout(() => {
          if (this.entries.get(id) === ticket) this.track(this.admit(id, true));
        }, 500).unref();
      } else if (error instanceof SessionExpiredError) {
        // `lost` is on its way: its dropAll and the next session's listing take over.
        this.entries.delete(id);
      } else {
        this.logger.warn({
          msg: 'could not read an assignment; trying again',
          taskId: id,
          error: messageOf(error),
        });
        this.entries.delete(id);
        setTimeout(this.options.relist, 500).unref();
      }
      return;
    }
    if (ticket.dropped) {
      this.givenUp.set(id, parsed.attempt);
      this.ignore(id, `attempt ${parsed.attempt} was assigned to a lost session; handing it back`);
      this.track(this.handBackGivenUp(id, parsed.attempt));
      return;
    }
    if (this.givenUp.get(id) === record.attempt) {
      if (!this.givenUpOnLostSession.has(id)) {
        this.ignore(id, `attempt ${record.attempt} was given up by this worker`);
        return;
      }
      this.ignore(
        id,
        `attempt ${record.attempt} was given up with a lost session; handing it back`,
      );
      this.track(this.handBackGivenUp(id, record.attempt));
      return;
    }
    const verdict = admit(record, parsed, this.workerId);
    if (!verdict.ok) {
      if (startedByAnEarlierProcess(record, parsed.attempt, this.workerId)) {
        // Read fresh (no note carried it): see forget for why nobody else would end it.
        this.givenUp.set(id, record.attempt);
        this.ignore(
          id,
          `attempt ${record.attempt} was started by an earlier process; handing it back`,
        );
        this.track(this.handBackGivenUp(id, record.attempt, CHANGED_UNDER_US));
        return;
      }
      this.ignore(id, verdict.reason);
      return;
    }
    const execution = new Execution(record, version, verdict.gang);
    this.entries.set(id, execution);
    if (this.draining) {
      this.runner.abort(execution, 'shutdown');
      return;
    }
    this.runner.schedule(execution);
  }

  /**
   * An attempt this worker gave up when its session ended (or after a write
   * refused by a record that still names it: see forget), whose assignment is
   * still there: the leader may never move it (a leader
   * elected after this worker registered again sees it live, holding the
   * task, and nothing tells it otherwise), so the worker hands it back itself
   * (step 9). A compare-and-set on the record read now: if the leader moved
   * the task meanwhile, the write is refused and changes nothing. A gang
   * member hands back the whole gang attempt, as a draining member does.
   */
  private async handBackGivenUp(
    id: string,
    attempt: number,
    reason = 'given up when its ZooKeeper session ended',
  ): Promise<void> {
    let found;
    try {
      found = await this.tasks.read(id);
    } catch {
      return; // unreadable now: the leader's business again
    }
    if (found === undefined) return; // gone
    const { record, version } = found;
    if (record.attempt !== attempt || !(record.state === 'assigned' || record.state === 'running'))
      return;
    let gang: GangPlace | undefined;
    if (record.parallelism > 1) {
      // A gang member whose own outcome never landed: the whole attempt goes
      // back (its other members' successes do not make the gang's).
      const workers = record.workers ?? [];
      const index = workers.indexOf(this.workerId);
      const own = record.members?.[this.workerId]?.state;
      if (index < 0 || own === 'succeeded' || own === 'failed') return;
      gang = { size: workers.length, index, workers };
    } else if (record.workerId !== this.workerId) {
      return;
    }
    const task = new Execution(record, version, gang);
    await this.reporter.finish(task, this.changes.handedBack(task, reason));
  }

  private ignore(id: string, reason: string): void {
    this.entries.set(id, IGNORED);
    this.logger.log({ msg: 'ignoring an assignment', taskId: id, reason });
  }

  private vanished(id: string, entry: Execution | Marker): void {
    this.entries.delete(id);
    this.carried.delete(id);
    this.givenUp.delete(id);
    this.givenUpOnLostSession.delete(id);
    if (entry instanceof Execution && !entry.settled) this.runner.abort(entry, 'cancelled');
  }

  /**
   * The data watch of an admitted assignment: fires when it is deleted. The
   * entry goes at once, so a node re-created under the same name before the
   * next listing (the children watch fires for both) is read as a new one.
   */
  private readonly onAssignmentEvent = (event: WatchEvent): void => {
    if (event.type !== 'deleted') return;
    const id = event.path.slice(event.path.lastIndexOf('/') + 1);
    const entry = this.entries.get(id);
    if (entry !== undefined) this.vanished(id, entry);
  };

  /**
   * Stale: give the attempt up; its assignment is looked at afresh (a new
   * attempt may be there). The record may still name this attempt on this
   * worker: an earlier process with this member id wrote it (its `running`
   * report) after the assignment was made, so the version this one held was
   * old. Nobody else would ever end that attempt (the leader sees this worker
   * live, holding it), so it is handed back, as one given up with a lost session.
   */
  private forget(execution: Execution): void {
    // Once per attempt: a rejected `running` write is seen again by the finish waiting on it.
    if (!execution.dropped) {
      this.track(this.handBackGivenUp(execution.id, execution.attempt, CHANGED_UNDER_US));
    }
    execution.dropped = true;
    this.givenUp.set(execution.id, execution.attempt);
    if (this.entries.get(execution.id) === execution) {
      this.entries.delete(execution.id);
      this.options.relist();
    }
  }

  private track(work: Promise<void>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }
}

const CHANGED_UNDER_US =
  'its record changed under this worker while still naming this attempt here';

/**
 * `running` on this worker at the assignment's attempt, yet not running in
 * this process (it is being admitted): an earlier process with this member id
 * started it. Gangs are left out: their records move with their other members.
 */
function startedByAnEarlierProcess(record: TaskRecord, attempt: number, workerId: string): boolean {
  return (
    record.state === 'running' &&
    record.parallelism <= 1 &&
    record.workerId === workerId &&
    record.attempt === attempt
  );
}
