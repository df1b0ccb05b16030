import { NoNodeError, sequenceOf, sortBySequence, type Watcher, type ZkClient } from '@app/zk';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import { parseOutboxEntry } from './outbox-entry';

/** One outbox node as read: its events, or why it is unusable. */
export interface OutboxNode {
  name: string;
  seq: number;
  bytes: number;
  events: AuditEvent[];
  /** Set when the node can never be stored (the drain moves it aside). */
  malformed?: string;
  /** The node's data, kept for a malformed node only (it is moved aside as it is). */
  raw?: Buffer;
}

export interface BatchLimits {
  nodes: number;
  events: number;
  bytes: number;
}

/** Reads in flight at once while nodes are big (up to 1 MiB each): bounds the memory read ahead. */
const BIG_NODE_WINDOW = 16;
/** Nodes smaller than this on average are read a whole batch at a time. */
const SMALL_NODE_BYTES = 16_384;

/**
 * The outbox in sequence order, as the drain sees it: a listing taken once and
 * consumed batch by batch (nodes are only ever added after the listed ones: a
 * sequential node's number grows with its creation, so nothing can appear
 * among the listed), re-listed when used up. Listing arms one children watch:
 * `watcher` fires when a node is added, so an empty outbox costs nothing.
 */
export class OutboxQueue {
  private names: string[] = [];
  private readonly cache = new Map<string, OutboxNode>();
  private highest = -1;
  private averageBytes = 0;

  constructor(
    private readonly client: ZkClient,
    private readonly watcher: Watcher,
  ) {}

  get size(): number {
    return this.names.length;
  }

  /** The highest sequence number any listing has shown (-1 before the first). */
  get highestSeen(): number {
    return this.highest;
  }

  /** Lists the outbox again (and arms the watch). Returns the number of nodes. */
  async relist(): Promise<number> {
    const { children } = await this.client.children(ZkLayout.outbox, this.watcher);
    this.names = sortBySequence(children.filter(isEntryName));
    this.cache.clear();
    const last = this.names[this.names.length - 1];
    if (last !== undefined) this.highest = Math.max(this.highest, sequenceOf(last));
    return this.names.length;
  }

  /** Forgets the listing: the next `relist` starts over (after an unknown outcome). */
  reset(): void {
    this.names = [];
    this.cache.clear();
  }

  /**
   * Takes the oldest nodes out of the queue, within `limits` (but at least one
   * node), read from ZooKeeper as needed. Nodes that vanished meanwhile (an
   * earlier drainer's delete that landed late) are skipped.
   */
  async take(limits: BatchLimits): Promise<OutboxNode[]> {
    const batch: OutboxNode[] = [];
    let events = 0;
    let bytes = 0;
    while (this.names.length > 0 && batch.length < limits.nodes) {
      await this.readAhead(limits.nodes - batch.length);
      if (this.names.length === 0) break;
      const node = this.cache.get(this.names[0])!;
      const full = events + node.events.length > limits.events || bytes + node.bytes > limits.bytes;
      if (batch.length > 0 && full) break;
      this.names.shift();
      this.cache.delete(node.name);
      batch.push(node);
      events += node.events.length;
      bytes += node.bytes;
    }
    return batch;
  }

  /** Reads the next batch's nodes ahead (while the current one is being stored). */
  async prefetch(limits: BatchLimits): Promise<void> {
    await this.readAhead(limits.nodes);
  }

  /** Puts nodes taken back at the head, in order (their batch must be tried again). */
  putBack(nodes: readonly OutboxNode[]): void {
    for (const node of nodes) this.cache.set(node.name, node);
    this.names.unshift(...nodes.map((node) => node.name));
  }

  /**
   * Makes sure the head node is read, reading up to `want` names from the head
   * that are not cached yet (fewer while nodes are big). Drops names that vanished.
   */
  private async readAhead(want: number): Promise<void> {
    while (this.names.length > 0 && !this.cache.has(this.names[0])) {
      const limit = this.averageBytes < SMALL_NODE_BYTES ? Math.max(want, 1) : BIG_NODE_WINDOW;
      const window: string[] = [];
      for (const name of this.names) {
        if (window.length >= limit) break;
        if (!this.cache.has(name)) window.push(name);
      }
      const reads = await Promise.all(window.map((name) => this.read(name)));
      const missing = new Set<string>();
      window.forEach((name, i) => {
        const node = reads[i];
        if (node) this.cache.set(name, node);
        else missing.add(name);
      });
      if (missing.size > 0) this.names = this.names.filter((name) => !missing.has(name));
    }
  }

  private async read(name: string): Promise<OutboxNode | undefined> {
    let data: Buffer;
    try {
      data = (await this.client.get(`${ZkLayout.outbox}/${name}`)).data;
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    this.averageBytes =
      this.averageBytes === 0 ? data.length : this.averageBytes * 0.9 + data.length * 0.1;
    const seq = sequenceOf(name);
    const parsed = parseOutboxEntry(data);
    return parsed.ok
      ? { name, seq, bytes: data.length, events: parsed.events }
      : { name, seq, bytes: data.length, events: [], malformed: parsed.reason, raw: data };
  }
}

/** Outbox children are `e-<10 digits>`; anything else is not ours to drain. */
export function isEntryName(name: string): boolean {
  return /^e-\d{10}$/.test(name);
}
