import {
  BadVersionError,
  NoNodeError,
  NodeExistsError,
  Op,
  ZkError,
  isRetryable,
  type ZkClient,
  type ZkOp,
} from '@app/zk';
import {
  ZkLayout,
  isTerminal,
  type Assignment,
  type AuditEvent,
  type FinishedTaskNotice,
  type TaskRecord,
} from '@app/contracts';
import { decodeJson, encodeJson } from './json-codec';
import type { WriteBatcher } from './write-batcher';

/** A task record with the znode version it was read (or written) at. */
export interface VersionedTask {
  record: TaskRecord;
  version: number;
}

/**
 * One transition of a task (docs/task-protocol.md): the record as read, what
 * it becomes, and everything that must change with it in the same `multi()`.
 */
export interface TaskChange {
  /** The record and its version: the write is a compare-and-set on that version. */
  from: VersionedTask;
  next: TaskRecord;
  /** Its audit events (the outbox node of the same transaction). */
  events: readonly AuditEvent[];
  /** Workers given the task (step 2): one assignment node each, carrying the record as written. */
  assign?: readonly string[];
  /** Workers whose assignment goes with the change (`holdersOf`); one already gone is no conflict. */
  release?: readonly string[];
  /**
   * The writing worker's own assignment: its right to write, so it must exist
   * (a stale worker's write fails, invariant 3); `delete` removes it too.
   */
  own?: { workerId: string; delete: boolean };
  /**
   * A queue note carrying the record as written, so the leader learns of the
   * change without reading (a task handed back, finished, cancelled).
   */
  notify?: boolean;
}

/** What became of a change. Every outcome but `written` changed nothing. */
export type CommitOutcome =
  | { kind: 'written'; task: VersionedTask }
  /** The record changed since it was read (its version moved). */
  | { kind: 'moved' }
  /** The task node does not exist (retired, or never created). */
  | { kind: 'gone' }
  /** The writing worker's own assignment is gone: it no longer holds the task. */
  | { kind: 'revoked' }
  /** An assignment node of this worker exists already (a leftover). */
  | { kind: 'taken'; workerId: string }
  /** The connection dropped with the write on the wire: it may or may not have landed. */
  | { kind: 'unknown'; error: unknown };

export type UpdateOutcome =
  | Exclude<CommitOutcome, { kind: 'unknown' }>
  /** `decide` wanted no change of the record it was given. */
  | { kind: 'declined'; current: VersionedTask };

/** What a read-back finds after a change of unknown outcome. */
export type Landed =
  | Exclude<CommitOutcome, { kind: 'unknown' } | { kind: 'moved' }>
  | { kind: 'unapplied' }
  | { kind: 'moved'; current: VersionedTask };

export interface UpdateOptions {
  /** The record to decide on first (a worker's own copy); default: read it. */
  start?: VersionedTask;
  /** Read again and decide anew when the record moved (default), or stop with `moved`. */
  retryMoved?: boolean;
  /** Gives up with `moved` after this many changes refused or of unknown outcome. */
  maxTries?: number;
}

/** The record of a task node. Throws a SyntaxError when the node is not JSON. */
export function decodeTask(data: Buffer): TaskRecord {
  return decodeJson<TaskRecord>(data);
}

/** `/tasks/<id>` with its version, or undefined once it is gone. */
export async function readTask(client: ZkClient, id: string): Promise<VersionedTask | undefined> {
  const read = await readRaw(client, id);
  return read && { record: decodeTask(read.data), version: read.version };
}

/**
 * The nodes of a new task: its record and, when keyed, `/idempotency/<hash>`
 * holding its id. `json` is the record's JSON when the caller has it already.
 */
export function createTaskOps(record: TaskRecord, json = JSON.stringify(record)): ZkOp[] {
  const ops = [Op.create(ZkLayout.task(record.id), json)];
  if (record.idempotencyKey !== undefined) {
    ops.push(Op.create(ZkLayout.idempotency(record.idempotencyKey, record.owner), record.id));
  }
  return ops;
}

/**
 * Giving `record` (as written, at `version`) to `workers` (protocol step 2):
 * an assignment node each, and the notes carrying the record. The record goes
 * in the worker's note (AssignmentNote, one read per batch), not in each node:
 * a worker that finds no note reads the node, then the record. `recordJson`
 * is the record as the same write stores it: encoded once.
 */
export function assignmentWrites(
  record: TaskRecord,
  recordJson: string,
  version: number,
  workers: readonly string[],
): { ops: ZkOp[]; notes: Array<{ workerId: string; json: string }> } {
  if (workers.length === 0) return { ops: [], notes: [] };
  const node: Assignment = { attempt: record.attempt, taskVersion: version };
  const nodeJson = JSON.stringify(node);
  // What JSON.stringify({ ...node, record }) would give.
  const noteJson = `${nodeJson.slice(0, -1)},"record":${recordJson}}`;
  return {
    ops: workers.map((worker) => Op.create(ZkLayout.assignment(worker, record.id), nodeJson)),
    notes: workers.map((workerId) => ({ workerId, json: noteJson })),
  };
}

/** What the leader's queue note says of a task as written: all of it, or that it finished. */
function noticeJson(record: TaskRecord, json: string): string {
  if (!isTerminal(record.state)) return json;
  const notice: FinishedTaskNotice = { id: record.id, state: record.state };
  return JSON.stringify(notice);
}

/**
 * The one way a task's record changes in ZooKeeper, for the API, the leader,
 * the workers and retention alike: the record at the version read, the
 * assignments created or released, the writer's own assignment checked, the
 * audit events and the leader's queue notice, all in one `multi()` (through
 * the given WriteBatcher: fenced for a leader or a drainer, plain otherwise).
 *
 * Conflicts come back as typed outcomes, never as exceptions; what is thrown is
 * what the caller must see (fencing, a lost session, a write never sent).
 */
export class TaskWrites {
  constructor(
    private readonly client: ZkClient,
    private readonly batcher: WriteBatcher,
  ) {}

  read(id: string): Promise<VersionedTask | undefined> {
    return readTask(this.client, id);
  }

  /** Commits one change; an assignment to release that is already gone is left out. */
  async commit(change: TaskChange): Promise<CommitOutcome> {
    const id = change.next.id;
    const json = JSON.stringify(change.next);
    const version = change.from.version + 1;
    const head: ZkOp[] = [Op.set(ZkLayout.task(id), json, change.from.version)];
    const own = change.own;
    if (own) {
      const path = ZkLayout.assignment(own.workerId, id);
      head.push(own.delete ? Op.delete(path) : Op.check(path));
    }
    const assign = change.assign ?? [];
    const given = assignmentWrites(change.next, json, version, assign);
    head.push(...given.ops);
    const assignmentNotes = given.notes;
    const release = (change.release ?? []).filter((worker) => worker !== own?.workerId);
    for (;;) {
      const ops = [...head, ...release.map((worker) => Op.delete(ZkLayout.assignment(worker, id)))];
      try {
        await this.batcher.submit({
          ops,
          events: [...change.events],
          ...(change.notify ? { notify: [{ version, json: noticeJson(change.next, json) }] } : {}),
          ...(assignmentNotes.length > 0 ? { assignmentNotes } : {}),
        });
        return { kind: 'written', task: { record: change.next, version } };
      } catch (error) {
        const at = error instanceof ZkError ? error.opIndex : undefined;
        if (at === 0 && error instanceof BadVersionError) return { kind: 'moved' };
        if (at === 0 && error instanceof NoNodeError) return { kind: 'gone' };
        if (own && at === 1 && error instanceof NoNodeError) return { kind: 'revoked' };
        const created = (at ?? -1) - (head.length - assign.length);
        if (error instanceof NodeExistsError && created >= 0 && created < assign.length) {
          return { kind: 'taken', workerId: assign[created] };
        }
        const released = (at ?? -1) - head.length;
        if (error instanceof NoNodeError && released >= 0 && released < release.length) {
          release.splice(released, 1); // that worker let go already: nothing to release
          continue;
        }
        if (isRetryable(error)) return { kind: 'unknown', error };
        throw error;
      }
    }
  }

  /**
   * After an `unknown` outcome: reads the record back. Ours (byte-equal) is
   * `written`; the version read before is `unapplied` (send it again); anything
   * else `moved`, with the record found.
   */
  async landed(change: TaskChange): Promise<Landed> {
    const read = await readRaw(this.client, change.next.id);
    if (read === undefined) return { kind: 'gone' };
    if (read.data.equals(encodeJson(change.next))) {
      return { kind: 'written', task: { record: change.next, version: read.version } };
    }
    if (read.version === change.from.version) return { kind: 'unapplied' };
    return { kind: 'moved', current: { record: decodeTask(read.data), version: read.version } };
  }

  /**
   * Read, decide, commit, until the change lands or `decide` declines: the
   * compare-and-set loop of every writer that may meet another one. `decide`
   * may throw to refuse (e.g. a task already finished).
   */
  async update(
    id: string,
    decide: (current: VersionedTask) => TaskChange | undefined,
    options: UpdateOptions = {},
  ): Promise<UpdateOutcome> {
    const retryMoved = options.retryMoved ?? true;
    const maxTries = options.maxTries ?? Number.POSITIVE_INFINITY;
    let current = options.start ?? (await this.read(id));
    for (let tries = 1; ; tries++) {
      if (current === undefined) return { kind: 'gone' };
      const change = decide(current);
      if (change === undefined) return { kind: 'declined', current };
      const committed = await this.commit(change);
      const outcome = committed.kind === 'unknown' ? await this.landed(change) : committed;
      switch (outcome.kind) {
        case 'unapplied':
          if (tries >= maxTries) return { kind: 'moved' };
          continue; // not sent after all: the same change again
        case 'moved':
          if (tries >= maxTries || !retryMoved) return { kind: 'moved' };
          current = (outcome as { current?: VersionedTask }).current ?? (await this.read(id));
          continue;
        default:
          return outcome;
      }
    }
  }

  /**
   * Removes a finished task (retention, invariant 6): `/tasks/<id>` at the
   * version read, with its idempotency node (one already gone is left out).
   */
  async retire(task: VersionedTask): Promise<'retired' | 'moved' | 'gone' | 'unknown'> {
    const ops = [Op.delete(ZkLayout.task(task.record.id), task.version)];
    if (task.record.idempotencyKey !== undefined) {
      ops.push(Op.delete(ZkLayout.idempotency(task.record.idempotencyKey, task.record.owner)));
    }
    for (;;) {
      try {
        await this.batcher.submit({ ops });
        return 'retired';
      } catch (error) {
        const at = error instanceof ZkError ? error.opIndex : undefined;
        if (at === 0 && error instanceof NoNodeError) return 'gone';
        if (at === 1 && error instanceof NoNodeError) {
          ops.pop();
          continue;
        }
        if (at === 0 && error instanceof BadVersionError) return 'moved';
        if (isRetryable(error)) return 'unknown';
        throw error;
      }
    }
  }
}

async function readRaw(
  client: ZkClient,
  id: string,
): Promise<{ data: Buffer; version: number } | undefined> {
  try {
    const { data, stat } = await client.get(ZkLayout.task(id));
    return { data, version: stat.version };
  } catch (error) {
    if (error instanceof NoNodeError) return undefined;
    throw error;
  }
}
