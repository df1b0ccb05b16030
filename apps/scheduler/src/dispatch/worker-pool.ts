import type { Selector, WorkerInfo } from '@app/contracts';

/** A live worker as the leader sees it: what it offers and what it holds. */
export interface PoolWorker {
  id: string;
  info: WorkerInfo;
  /** Tasks the leader has assigned to it and not yet seen finish. */
  assigned: Set<string>;
}

/**
 * Which workers get a task: among the live, non-draining workers whose labels
 * match the selector and that have room, the least loaded (assigned ÷
 * capacity); ties are spread round-robin. Pure: no I/O, so it is tested alone.
 */
export class WorkerPool {
  private readonly workers = new Map<string, PoolWorker>();
  private cursor = 0;

  get size(): number {
    return this.workers.size;
  }

  get(id: string): PoolWorker | undefined {
    return this.workers.get(id);
  }

  all(): IterableIterator<PoolWorker> {
    return this.workers.values();
  }

  /** Adds or refreshes a worker; its assignments are kept across refreshes. */
  upsert(id: string, info: WorkerInfo): PoolWorker {
    const existing = this.workers.get(id);
    if (existing) {
      existing.info = info;
      return existing;
    }
    const worker: PoolWorker = { id, info, assigned: new Set() };
    this.workers.set(id, worker);
    return worker;
  }

  remove(id: string): PoolWorker | undefined {
    const worker = this.workers.get(id);
    this.workers.delete(id);
    return worker;
  }

  /** Free slots over every worker that may take work. */
  freeCapacity(): number {
    let free = 0;
    for (const worker of this.workers.values()) if (accepts(worker)) free += room(worker);
    return free;
  }

  /**
   * `count` distinct workers for one task, or undefined when not enough qualify
   * now (the task then waits).
   */
  choose(selector: Selector | undefined, count = 1): PoolWorker[] | undefined {
    const candidates: PoolWorker[] = [];
    for (const worker of this.workers.values()) {
      if (accepts(worker) && room(worker) > 0 && matches(worker, selector)) candidates.push(worker);
    }
    if (candidates.length < count) return undefined;
    // Rotate the start so equal loads take turns instead of always favouring the first.
    const offset = this.cursor++ % candidates.length;
    const rotated = [...candidates.slice(offset), ...candidates.slice(0, offset)];
    rotated.sort((a, b) => load(a) - load(b));
    return rotated.slice(0, count);
  }
}

function accepts(worker: PoolWorker): boolean {
  return worker.info.draining !== true;
}

function room(worker: PoolWorker): number {
  return Math.max(0, worker.info.capacity - worker.assigned.size);
}

function load(worker: PoolWorker): number {
  return worker.assigned.size / Math.max(1, worker.info.capacity);
}

export function matches(worker: PoolWorker, selector: Selector | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector.labels).every(([key, value]) => worker.info.labels[key] === value);
}
