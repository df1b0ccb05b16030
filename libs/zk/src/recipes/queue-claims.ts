import {
  BadVersionError,
  ConnectionLossError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  isConnectionProblem,
} from '../client/errors';
import { joinPath } from '../client/paths';
import { Op, type ZkOp, type ZkOpResult } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { deleteQuietly } from './sequential-nodes';

/** The handler finished but the claim was no longer ours: another consumer owns the item. */
export class ClaimLostError extends Error {
  constructor(
    readonly item: string,
    override readonly cause: unknown,
  ) {
    super(`claim on queue item ${item} was lost; the item stays for another consumer`);
    this.name = 'ClaimLostError';
  }
}

/**
 * The claims of one DistributedQueue consumer (`claims/<item name>`, ephemeral):
 * taking an item, giving it back, and committing what was done with it, each
 * fenced by the version the claim gave the item. Claims whose outcome was
 * unknown (connection loss) are remembered and settled on reconnection, so a
 * live session never sits on a forgotten claim.
 */
export class QueueClaims {
  /** Claims whose create had an unknown outcome that could not be checked yet: name → token. */
  private readonly uncertain = new Map<string, number>();

  constructor(
    private readonly client: ZkClient,
    private readonly itemsPath: string,
    private readonly claimsPath: string,
    private readonly consumerId: string,
  ) {}

  /** The session ended: its claims went with it. */
  forgetUncertain(): void {
    this.uncertain.clear();
  }

  /**
   * Claims `name`: creates the ephemeral claim and bumps the item's version in
   * one multi. Resolves with the item's data and new version (the fencing token
   * for the delete), or undefined when someone else has it or it is gone.
   */
  async claim(name: string): Promise<{ version: number; data: Buffer } | undefined> {
    const itemPath = joinPath(this.itemsPath, name);
    const claimPath = joinPath(this.claimsPath, name);
    let read;
    try {
      read = await this.client.get(itemPath);
    } catch (error) {
      // Connection trouble: leave the item; `reconnected`/`connected` fills again.
      if (error instanceof NoNodeError || isConnectionProblem(error)) return undefined;
      throw error;
    }
    const version = read.stat.version + 1;
    try {
      await this.client.multi([
        Op.create(claimPath, this.consumerId, 'ephemeral'),
        Op.set(itemPath, read.data, read.stat.version),
      ]);
      return { version, data: read.data };
    } catch (error) {
      if (isTakenOrGone(error) || error instanceof SessionExpiredError) return undefined;
      if (!(error instanceof ConnectionLossError)) throw error;
    }
    // Outcome unknown: the claim is ours only if it is our session's and the item
    // carries our version. If that cannot be told now, it is checked again on
    // reconnection and given back, so a live session never sits on a forgotten claim.
    try {
      return (await this.owns(name, version)) ? { version, data: read.data } : undefined;
    } catch (error) {
      if (!isConnectionProblem(error)) throw error;
      this.uncertain.set(name, version);
      return undefined;
    }
  }

  /** Deletes the claim on `name` if our current session holds it; never throws. */
  async release(name: string): Promise<void> {
    const claimPath = joinPath(this.claimsPath, name);
    try {
      const { stat } = await this.client.get(claimPath);
      if (stat.ephemeralOwner !== this.client.sessionInfo?.sessionId) return;
      await deleteQuietly(this.client, claimPath, stat.version);
    } catch {
      // Gone already, or no connection: an ephemeral claim goes with its session at the latest.
    }
  }

  /** Gives back claims whose multi had an unknown outcome and turned out to be ours. */
  async settleUncertain(busy: (name: string) => boolean): Promise<void> {
    for (const [name, version] of [...this.uncertain]) {
      if (busy(name)) continue;
      try {
        if (await this.owns(name, version)) await this.release(name);
        this.uncertain.delete(name);
      } catch {
        return; // still no connection: the next reconnection tries again
      }
    }
  }

  private async owns(name: string, version: number): Promise<boolean> {
    try {
      const [claim, item] = await Promise.all([
        this.client.get(joinPath(this.claimsPath, name)),
        this.client.get(joinPath(this.itemsPath, name)),
      ]);
      return (
        claim.stat.ephemeralOwner === this.client.sessionInfo?.sessionId &&
        item.stat.version === version
      );
    } catch (error) {
      if (error instanceof NoNodeError) return false;
      throw error;
    }
  }

  /**
   * Commits a multi that starts with the claim and item deletes. NoNode or
   * BadVersion on them means the claim is no longer ours: ClaimLostError.
   */
  async commit(
    name: string,
    ops: ZkOp[],
    appliedBeforeLoss?: () => Promise<boolean>,
  ): Promise<ZkOpResult[]> {
    let lostConnection = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.multi(ops);
      } catch (error) {
        if (error instanceof ConnectionLossError && attempt < 3) {
          lostConnection = true;
          continue;
        }
        if (
          lostConnection &&
          appliedBeforeLoss &&
          isTakenOrGone(error) &&
          (await appliedBeforeLoss())
        ) {
          return [];
        }
        if (isTakenOrGone(error) || error instanceof SessionExpiredError) {
          throw new ClaimLostError(name, error);
        }
        throw error;
      }
    }
  }
}

/** The claim exists (someone else's) or the item moved on: not ours to take or commit. */
function isTakenOrGone(error: unknown): boolean {
  return (
    error instanceof NodeExistsError ||
    error instanceof NoNodeError ||
    error instanceof BadVersionError
  );
}
