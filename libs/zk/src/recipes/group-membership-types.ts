import type { StructuredLogger } from '../client/logger';
import type { GroupViewEvents } from './group-view';

// GroupMembership's options, events and duplicate error: its public contract,
// apart from the registration logic (re-exported from group-membership.ts).

export interface GroupMembershipOptions<T> {
  /** The group znode, e.g. '/members/workers'; created (with parents) when missing. */
  path: string;
  /** This member's node name: one znode name, unique in the group. */
  id: string;
  /** This member's data, stored as JSON: a JSON-serialisable object. */
  data: T;
  /**
   * How long `start()` waits for a node of another session to go before failing
   * as a duplicate: a process restarted right after a crash finds the node of its
   * previous run, which the servers remove within one session timeout. Default:
   * the session timeout + 1 s; 0 fails at once.
   */
  duplicateWaitMs?: number;
  logger?: StructuredLogger;
}

export interface GroupMembershipEvents<T> extends GroupViewEvents<T> {
  /** This member's node exists on this session (the first time, and after each re-creation). */
  registered: [sessionId: string];
}

/** The member id is held by another live session (or by a persistent node). */
export class DuplicateMemberError extends Error {
  constructor(
    readonly id: string,
    readonly path: string,
    /** Session owning the node, or null for a persistent node. */
    readonly owner: string | null,
  ) {
    super(
      `group member id '${id}' is already registered at ${path} by ` +
        (owner === null ? 'a persistent node' : `another session (0x${owner})`) +
        ': two processes use the same id, or a previous instance died less than one session timeout ago',
    );
    this.name = 'DuplicateMemberError';
  }
}
