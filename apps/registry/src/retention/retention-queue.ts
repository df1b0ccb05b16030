import { Heap } from 'heap-js';

interface Entry {
  at: number;
  id: string;
}

/**
 * Finished tasks waiting to leave ZooKeeper, by the time they may (epoch ms).
 * A task is held once; offering it again with an earlier time moves it up.
 * Bounded: past `capacity` offers are refused (the caller rescans later).
 */
export class RetentionQueue {
  private readonly due = new Map<string, number>();
  private readonly heap = new Heap<Entry>((a, b) => a.at - b.at);

  constructor(readonly capacity = 1_000_000) {}

  get size(): number {
    return this.due.size;
  }

  has(id: string): boolean {
    return this.due.has(id);
  }

  /** False when the queue is full and `id` is not in it. */
  offer(id: string, at: number): boolean {
    const current = this.due.get(id);
    if (current !== undefined && current <= at) return true;
    if (current === undefined && this.due.size >= this.capacity) return false;
    this.due.set(id, at);
    this.heap.push({ at, id });
    return true;
  }

  /** When the earliest task is due, if any. */
  nextDue(): number | undefined {
    this.dropStale();
    return this.heap.peek()?.at;
  }

  /** Removes and returns up to `max` tasks due at `now`, earliest first. */
  takeDue(now: number, max: number): string[] {
    const ids: string[] = [];
    while (ids.length < max) {
      this.dropStale();
      const top = this.heap.peek();
      if (top === undefined || top.at > now) break;
      this.heap.pop();
      this.due.delete(top.id);
      ids.push(top.id);
    }
    return ids;
  }

  clear(): void {
    this.due.clear();
    this.heap.clear();
  }

  /** Heap entries superseded by an earlier offer (or taken) are skipped lazily. */
  private dropStale(): void {
    for (let top = this.heap.peek(); top !== undefined; top = this.heap.peek()) {
      if (this.due.get(top.id) === top.at) return;
      this.heap.pop();
    }
  }
}
