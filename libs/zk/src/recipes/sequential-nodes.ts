import { randomUUID } from 'node:crypto';
import {
  ClientClosedError,
  ConnectionLossError,
  NoNodeError,
  SessionExpiredError,
  ZkCode,
} from '../client/errors';
import { joinPath, sortBySequence } from '../client/paths';
import type { CreateMode, NodeData } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { onConnectionStates } from '../client/connection-states';

/**
 * Pieces shared by the recipes that queue on sequential nodes or wait on a
 * watched node (Lock, DoubleBarrier, DistributedQueue). Internal: not exported
 * from the package.
 */

/** Curator's marker for protected names: `_c_<uuid>-<name><sequence>`. */
const PROTECTED_MARKER = '_c_';

/** How many times a protected create is re-sent after a connection loss. */
const PROTECTED_ATTEMPTS = 5;

/** Where a protected sequential create landed, and the prefix that identifies it. */
export interface ProtectedNode {
  path: string;
  /** The unique part of the name: every node of this attempt starts with it. */
  prefix: string;
}

export interface ProtectedCreateOptions {
  /** Checked before every try: false stops with undefined (the caller moved on). */
  stillWanted?: () => boolean;
  /** Create the parent (and its parents) when it is missing. */
  makeParent?: boolean;
}

/**
 * A sequential create whose reply may be lost without leaving a ghost behind:
 * the name starts with a prefix unique to this call, so after a connection loss
 * the parent is listed and a node with the prefix is adopted instead of creating
 * a second one. The listing is queued behind the create on the same session
 * (the native client sends a session's requests in order), so a create that is
 * still on its way is seen by it. Re-sent up to PROTECTED_ATTEMPTS times, or for
 * as long as `stillWanted` says so.
 */
export async function createProtected(
  client: ZkClient,
  parent: string,
  name: string,
  data: NodeData,
  mode: ProtectedMode,
): Promise<ProtectedNode>;
export async function createProtected(
  client: ZkClient,
  parent: string,
  name: string,
  data: NodeData,
  mode: ProtectedMode,
  options: ProtectedCreateOptions,
): Promise<ProtectedNode | undefined>;
export async function createProtected(
  client: ZkClient,
  parent: string,
  name: string,
  data: NodeData,
  mode: ProtectedMode,
  options: ProtectedCreateOptions = {},
): Promise<ProtectedNode | undefined> {
  const prefix = `${PROTECTED_MARKER}${randomUUID()}-${name}`;
  const attempts = options.stillWanted ? Number.POSITIVE_INFINITY : PROTECTED_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    if (options.stillWanted?.() === false) return undefined;
    try {
      return { path: await client.create(joinPath(parent, prefix), data, mode), prefix };
    } catch (error) {
      if (error instanceof NoNodeError && options.makeParent) {
        await client.mkdirp(parent);
        continue;
      }
      if (!(error instanceof ConnectionLossError) || attempt >= attempts) throw error;
      const found = await findByPrefix(client, parent, prefix);
      if (found.length > 0) return { path: joinPath(parent, found[0]), prefix };
    }
  }
}

type ProtectedMode = Extract<CreateMode, 'ephemeral_sequential' | 'persistent_sequential'>;

/** Children of `parent` whose name starts with `prefix`, in sequence order. */
export async function findByPrefix(
  client: ZkClient,
  parent: string,
  prefix: string,
): Promise<string[]> {
  const { children } = await client.children(parent);
  return sortBySequence(children.filter((child) => child.startsWith(prefix)));
}

/** Sequential children whose name contains `name`, lowest sequence first. */
export function sortedSequential(children: readonly string[], name: string): string[] {
  return sortBySequence(children.filter((child) => child.includes(name) && /\d{10}$/.test(child)));
}

/** Deletes a node, retrying connection loss; a node that is already gone is fine. */
export async function deleteQuietly(client: ZkClient, path: string, version = -1): Promise<void> {
  try {
    await client.retry(() => client.delete(path, version));
  } catch (error) {
    if (error instanceof NoNodeError || error instanceof SessionExpiredError) return;
    if (error instanceof ClientClosedError) return;
    throw error;
  }
}

/** An optional time limit, measured from construction. */
export class Deadline {
  private readonly end: number;

  constructor(readonly timeoutMs?: number) {
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      throw new Error(`timeout must be a non-negative number of ms, got ${timeoutMs}`);
    }
    this.end = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  }

  get remainingMs(): number {
    return Math.max(0, this.end - Date.now());
  }

  /** What a wait may take: the time left, or undefined without a limit. */
  get waitMs(): number | undefined {
    return this.timeoutMs === undefined ? undefined : this.remainingMs;
  }

  get expired(): boolean {
    return Date.now() >= this.end;
  }
}

export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * An AbortController that aborts when the client's session ends or the client
 * closes: what a recipe waits on must not outlive the session its nodes and
 * watches belong to.
 */
export function sessionBoundController(
  client: ZkClient,
  what: string,
): {
  controller: AbortController;
  dispose: () => void;
} {
  const controller = new AbortController();
  const dispose = onConnectionStates(client, {
    lost: () =>
      controller.abort(
        new SessionExpiredError(`ZooKeeper session ended while ${what}`, ZkCode.SESSION_EXPIRED),
      ),
    closed: () =>
      controller.abort(
        new ClientClosedError(`ZooKeeper client closed while ${what}`, ZkCode.CONNECTION_LOSS),
      ),
  });
  return { controller, dispose };
}
