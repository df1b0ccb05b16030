import type { ZkClient } from '../client/zk-client';
import { sortedSequential } from './sequential-nodes';

/**
 * Which items a DistributedQueue consumer tries to claim next: lists `items/`
 * (with a children watch, re-armed when it lists again) and `claims/`, keeps a
 * short backlog of unclaimed items, and watches `claims/` only while every item
 * it sees is claimed by someone else. Apart from the queue so that the claim
 * and handler flow reads on its own; no polling either way.
 */

/** 'spread' picks its next items at random among the first this many waiting (fewer collisions). */
const ORDER_WINDOW = 64;

export interface BacklogRefresh {
  /** Something to take is in the backlog now. */
  found: boolean;
  /** A claim went between two listings: the caller should look again now. */
  lookAgain: boolean;
}

export class QueueBacklog {
  private backlog: string[] = [];
  private itemsWatchArmed = false;
  private claimsWatchArmed = false;

  constructor(
    private readonly client: ZkClient,
    private readonly itemsPath: string,
    private readonly claimsPath: string,
    private readonly ordering: 'spread' | 'fifo',
    /** Called when a watch fires: items were added or a claim went. */
    private readonly onChange: () => void,
  ) {}

  get isEmpty(): boolean {
    return this.backlog.length === 0;
  }

  /** The next name to try, if any. */
  shift(): string | undefined {
    return this.backlog.shift();
  }

  /** The session ended: its watches are gone, so the next listing arms them again. */
  forgetWatches(): void {
    this.itemsWatchArmed = false;
    this.claimsWatchArmed = false;
  }

  /** Lists unclaimed items (not in `inFlight`) into the backlog. */
  async refresh(inFlight: ReadonlySet<string>, concurrency: number): Promise<BacklogRefresh> {
    // Armed before the call: the notification can arrive in the same socket read
    // as the reply, before this function resumes.
    const armItems = !this.itemsWatchArmed;
    this.itemsWatchArmed = true;
    let items: string[];
    try {
      ({ children: items } = await this.client.children(
        this.itemsPath,
        armItems ? this.onItemsChanged : undefined,
      ));
    } catch (error) {
      if (armItems) this.itemsWatchArmed = false;
      throw error;
    }
    const waiting = sortedSequential(items, 'item-').filter((name) => !inFlight.has(name));
    if (waiting.length === 0) return { found: false, lookAgain: false };
    const { children: claimed } = await this.client.children(this.claimsPath);
    const claimedSet = new Set(claimed);
    const free = waiting.filter((name) => !claimedSet.has(name));
    if (free.length > 0) {
      // A short backlog: a long one goes stale while other consumers take its items.
      const size = Math.max(2 * concurrency, 8);
      this.backlog =
        this.ordering === 'fifo'
          ? free.slice(0, size)
          : sampleInOrder(free.slice(0, Math.max(ORDER_WINDOW, 4 * size)), size);
      return { found: true, lookAgain: false };
    }
    // Everything is claimed by others: wake when a claim goes (done, or its consumer died).
    let lookAgain = false;
    if (!this.claimsWatchArmed) {
      this.claimsWatchArmed = true;
      try {
        const { children } = await this.client.children(this.claimsPath, this.onClaimsChanged);
        // A claim went between the two listings: look again now.
        const stillClaimed = new Set(children);
        if (waiting.some((name) => !stillClaimed.has(name))) lookAgain = true;
      } catch (error) {
        this.claimsWatchArmed = false;
        throw error;
      }
    }
    return { found: false, lookAgain };
  }

  private readonly onItemsChanged = (): void => {
    this.itemsWatchArmed = false;
    this.onChange();
  };

  private readonly onClaimsChanged = (): void => {
    this.claimsWatchArmed = false;
    this.onChange();
  };
}

/** `count` names picked at random from `names`, kept in sequence order. */
function sampleInOrder(names: string[], count: number): string[] {
  if (names.length <= count) return names;
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(Math.random() * names.length));
  return [...picked].sort((a, b) => a - b).map((index) => names[index]);
}
