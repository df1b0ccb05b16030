import type { ZkClient } from '../client/zk-client';
import { NoNodeError, ZkError, isConnectionProblem } from '../client/errors';
import { basename, joinPath, sortBySequence } from '../client/paths';
import { TypedEmitter } from '../client/typed-emitter';
import { Op, type SessionInfo, type ZkOp, type ZkOpResult } from '../client/types';
import { Lifecycle } from './lifecycle';
import { createProtected, deleteQuietly } from './sequential-nodes';
import { onConnectionStates } from '../client/connection-states';

/**
 * Leader election over ephemeral-sequential candidates: the lowest is the leader.
 *
 * Guarantees
 * - At most one candidate believes it leads at any time, as long as processes
 *   are not paused: leadership is dropped as soon as the connection is
 *   `suspended` (before the servers can expire the session and elect another,
 *   because the client notices silence after 2/3 of the session timeout) and on
 *   `lost`.
 * - A leader that was paused (GC, SIGSTOP) cannot know it was deposed; its writes
 *   still cannot land: `fencedMulti()` adds a `check` of its candidate node to
 *   every transaction, so ZooKeeper rejects them once that node is gone
 *   (`FencedError`).
 * - No herd: each candidate watches only its predecessor, with getData (no
 *   stray watch is left when the predecessor is already gone).
 * - No ghost candidate: names carry a per-attempt unique prefix, so a create
 *   whose reply was lost is found again instead of being made twice.
 *
 * Failure modes: while `suspended` nobody may lead (no candidate is elected
 * until the servers expire the old session); a candidate that never gets a
 * session never runs.
 */
export interface LeaderElectionOptions {
  /** Parent znode of the candidates, e.g. '/election/scheduler'. */
  path: string;
  /** Who this participant is; stored in its candidate node. */
  id: string;
  /** Extra JSON stored beside the id (endpoint, pid…), readable by observers. */
  data?: Record<string, unknown>;
}

/** Proof of leadership: the candidate node and its creation zxid (the epoch). */
export interface FencingToken {
  candidatePath: string;
  /** czxid of the candidate node: grows with every new leadership. */
  epoch: string;
  sessionId: string;
}

export interface Participant {
  id: string;
  candidate: string;
  isLeader: boolean;
  data: Record<string, unknown>;
}

export type RevokeReason = 'suspended' | 'lost' | 'deposed' | 'closed';

export interface LeaderElectionEvents {
  [event: string]: unknown[];
  elected: [FencingToken];
  revoked: [RevokeReason];
  /** A background step failed in a way the recipe cannot fix by itself. */
  error: [Error];
}

/** A fenced write was refused because this participant does not (or no longer) lead. */
export class NotLeaderError extends Error {
  constructor(message = 'not the leader') {
    super(message);
    this.name = 'NotLeaderError';
  }
}

/** ZooKeeper rejected a leader write: the candidate node is gone, so someone else may lead. */
export class FencedError extends NotLeaderError {
  constructor(readonly token: FencingToken) {
    super(
      `leadership ${token.candidatePath} (epoch ${token.epoch}) has ended: write refused by ZooKeeper`,
    );
    this.name = 'FencedError';
  }
}

/**
 * Commits `ops` only while the candidate node of `token` exists: ZooKeeper itself
 * refuses the transaction of a deposed leader. Results exclude the check.
 */
export async function fencedMulti(
  client: ZkClient,
  token: FencingToken,
  ops: readonly ZkOp[],
): Promise<ZkOpResult[]> {
  try {
    const results = await client.multi([Op.check(token.candidatePath), ...ops]);
    return results.slice(1);
  } catch (error) {
    if (error instanceof ZkError && error.opIndex !== undefined) {
      if (error.opIndex === 0) throw new FencedError(token);
      error.opIndex -= 1;
    }
    throw error;
  }
}

const CANDIDATE_NAME = 'n_';

export class LeaderElection extends TypedEmitter<LeaderElectionEvents> {
  private readonly lifecycle = new Lifecycle('LeaderElection');
  private candidatePath: string | undefined;
  private leadership: FencingToken | undefined;
  /** Bumped whenever the candidate must be rebuilt; stale async steps see it and stop. */
  private round = 0;
  /** The predecessor whose deletion we are waiting for (one armed watch at a time). */
  private watched: string | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZkClient,
    private readonly options: LeaderElectionOptions,
  ) {
    super();
    if (!/^[^/\s]+$/.test(options.id)) throw new Error(`invalid participant id: '${options.id}'`);
  }

  get isLeader(): boolean {
    return this.leadership !== undefined;
  }

  /** The current fencing token, while leading. */
  get token(): FencingToken | undefined {
    return this.leadership;
  }

  /** This participant's candidate node, once created. */
  get candidate(): string | undefined {
    return this.candidatePath;
  }

  async start(): Promise<void> {
    this.lifecycle.start();
    this.unsubscribe = onConnectionStates(this.client, {
      suspended: () => this.revoke('suspended'),
      lost: () => {
        this.revoke('lost');
        this.candidatePath = undefined;
        this.watched = undefined;
        this.round++;
      },
      connected: () => this.runInBackground(() => this.enter()),
      reconnected: () => this.runInBackground(() => this.resume()),
    });
    if (this.client.isConnected) await this.enter();
  }

  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    this.unsubscribe?.();
    this.round++;
    this.revoke('closed');
    const candidate = this.candidatePath;
    this.candidatePath = undefined;
    if (candidate) await deleteQuietly(this.client, candidate).catch(() => undefined);
  }

  /**
   * Commits `ops` only if this participant still leads: the transaction carries a
   * check of the candidate node, so a deposed leader's write fails in ZooKeeper
   * itself. Results are those of `ops` (the check is not included).
   */
  async fencedMulti(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    const token = this.leadership;
    if (!token) throw new NotLeaderError();
    try {
      return await fencedMulti(this.client, token, ops);
    } catch (error) {
      if (error instanceof FencedError && this.leadership === token) this.revoke('deposed');
      throw error;
    }
  }

  /** Every candidate in election order, the leader first. */
  async participants(): Promise<Participant[]> {
    const { children } = await this.client.children(this.options.path);
    const ordered = sortBySequence(children.filter(isCandidateName));
    const found = await Promise.all(
      ordered.map(async (name, index): Promise<Participant | undefined> => {
        try {
          const { data } = await this.client.get(joinPath(this.options.path, name));
          const parsed = JSON.parse(data.toString()) as { id: string } & Record<string, unknown>;
          return { id: parsed.id, candidate: name, isLeader: index === 0, data: parsed };
        } catch (error) {
          if (error instanceof NoNodeError || error instanceof SyntaxError) return undefined;
          throw error;
        }
      }),
    );
    return found.filter((p): p is Participant => p !== undefined);
  }

  // ---- the algorithm ----------------------------------------------------------------

  /** Picks up where connection trouble interrupted: stand if we have no node, else re-check. */
  private resume(): Promise<void> {
    return this.candidatePath === undefined ? this.enter() : this.checkLeadership(this.round);
  }

  private async enter(): Promise<void> {
    if (!this.lifecycle.isStarted) return;
    const round = ++this.round;
    const candidate = await this.createCandidate(round);
    if (candidate === undefined || round !== this.round || !this.lifecycle.isStarted) {
      if (candidate !== undefined) await deleteQuietly(this.client, candidate);
      return;
    }
    this.candidatePath = candidate;
    await this.checkLeadership(round);
  }

  /** A protected create (see createProtected): a lost reply never leaves a ghost candidate. */
  private async createCandidate(round: number): Promise<string | undefined> {
    const data = JSON.stringify({ ...this.options.data, id: this.options.id });
    const created = await createProtected(
      this.client,
      this.options.path,
      CANDIDATE_NAME,
      data,
      'ephemeral_sequential',
      { stillWanted: () => round === this.round, makeParent: true },
    );
    return created?.path;
  }

  private async checkLeadership(round: number): Promise<void> {
    const own = this.candidatePath;
    if (round !== this.round || own === undefined || !this.lifecycle.isStarted) return;
    const { children } = await this.client.children(this.options.path);
    if (round !== this.round) return;
    const ordered = sortBySequence(children.filter(isCandidateName));
    const index = ordered.indexOf(basename(own));
    if (index < 0) {
      // Our node vanished while the session lives (deleted by hand): stand again.
      this.revoke('deposed');
      this.candidatePath = undefined;
      await this.enter();
      return;
    }
    if (index === 0) {
      await this.claim(round, own);
      return;
    }
    const predecessor = joinPath(this.options.path, ordered[index - 1]);
    if (this.watched === predecessor) return; // its watch is still armed (it survives reconnects)
    this.watched = predecessor;
    try {
      await this.client.get(predecessor, () => {
        if (this.watched === predecessor) this.watched = undefined;
        this.runInBackground(() => this.checkLeadership(round));
      });
    } catch (error) {
      this.watched = undefined;
      if (!(error instanceof NoNodeError)) throw error;
      await this.checkLeadership(round);
    }
  }

  /** Lowest candidate: lead only if the node belongs to the session we hold now. */
  private async claim(round: number, own: string): Promise<void> {
    const { stat } = await this.client.get(own);
    const session: SessionInfo | undefined = this.client.sessionInfo;
    if (round !== this.round || !this.lifecycle.isStarted || !this.client.isConnected) return;
    if (session === undefined || stat.ephemeralOwner !== session.sessionId) {
      // A node of an older session: it is about to vanish; a fresh candidate follows `connected`.
      return;
    }
    if (this.leadership?.candidatePath === own) return;
    this.leadership = {
      candidatePath: own,
      epoch: stat.czxid.toString(),
      sessionId: session.sessionId,
    };
    this.emit('elected', this.leadership);
  }

  private revoke(reason: RevokeReason): void {
    if (!this.leadership) return;
    this.leadership = undefined;
    this.emit('revoked', reason);
  }

  private runInBackground(step: () => Promise<void>): void {
    step().catch((error: unknown) => {
      if (!this.lifecycle.isStarted) return;
      if (isConnectionProblem(error)) {
        // `reconnected` or `connected` will resume the election; if the connection
        // is already back, resume now.
        if (this.client.isConnected) this.runInBackground(() => this.resume());
        return;
      }
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    });
  }
}

/** `_c_<uuid>-n_<seq>` (protected), or `c_<uuid>-n_<seq>` from versions before it. */
function isCandidateName(name: string): boolean {
  return /^_?c_[^/]*-n_\d{10}$/.test(name);
}
