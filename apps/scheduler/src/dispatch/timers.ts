import { Heap } from 'heap-js';

interface Entry<T> {
  at: number;
  /** Insertion order: entries due at the same instant fire in the order scheduled. */
  seq: number;
  value: T;
}

/**
 * Time-based steps of the leader (a task becoming due, an attempt's deadline, a
 * job's next fire) on one heap and one Node timer, so thousands of waiting
 * items cost one timer. Entries are never cancelled: handlers check they still
 * apply when they fire.
 */
export class Timers<T> {
  private readonly heap = new Heap<Entry<T>>((a, b) => a.at - b.at || a.seq - b.seq);
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;
  private stopped = false;

  constructor(
    private readonly onFire: (entry: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  schedule(at: number, entry: T): void {
    if (this.stopped) return;
    this.heap.push({ at, seq: this.seq++, value: entry });
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.heap.clear();
  }

  private arm(): void {
    const next = this.heap.peek()?.at;
    if (next === undefined || (this.armedFor !== undefined && this.armedFor <= next)) return;
    clearTimeout(this.timer);
    this.armedFor = next;
    // setTimeout takes at most a 32-bit delay; a longer wait re-arms on the way.
    const delay = Math.min(Math.max(0, next - this.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.armedFor = undefined;
    if (this.stopped) return;
    const now = this.now();
    while ((this.heap.peek()?.at ?? Infinity) <= now) this.onFire(this.heap.pop()!.value);
    this.arm();
  }
}
