import { Inject, Injectable } from '@nestjs/common';
import type { Environment } from '@app/common';
import { ApiError } from '@app/common/api';
import { ZkLayout } from '@app/contracts';
import { ZkClient } from '@app/zk';
import { loadCountLimit } from './count-limit-setting';

/**
 * `API_MAX_LIVE_TASKS`: how many tasks ZooKeeper may hold (pending, running,
 * and finished ones not yet retired); a submission that would go over is
 * answered 429 (gRPC RESOURCE_EXHAUSTED). Each task is a znode of 0.5–1 KiB
 * of record plus its audit events, all in ZooKeeper's heap
 * (docs/operations.md, Sizing). 0 = no limit.
 *
 * Counted cheaply, not by reading tasks: the `numChildren` of `/tasks` from
 * one `exists`, at most COUNT_TTL_MS old, plus what this replica created since
 * that count and what it is writing now. Replicas do not coordinate, so
 * submissions racing on several of them may go over by about one second of
 * their rate.
 */
export const MAX_LIVE_TASKS_VARIABLE = 'API_MAX_LIVE_TASKS';
export const DEFAULT_MAX_LIVE_TASKS = 100_000;
const MAX_LIVE_TASKS_CEILING = 10_000_000;
const COUNT_TTL_MS = 1_000;
export const MAX_LIVE_TASKS = Symbol('MAX_LIVE_TASKS');

export function loadMaxLiveTasks(env: Environment): number {
  return loadCountLimit(
    env,
    MAX_LIVE_TASKS_VARIABLE,
    DEFAULT_MAX_LIVE_TASKS,
    MAX_LIVE_TASKS_CEILING,
  );
}

@Injectable()
export class LiveTaskLimit {
  private count: Promise<{ tasks: number; at: number }> | undefined;
  private createdSinceCount = 0;
  private writing = 0;

  constructor(
    private readonly client: ZkClient,
    @Inject(MAX_LIVE_TASKS) private readonly maxLiveTasks: number,
  ) {}

  /** Runs `write` (which creates up to `count` tasks) when they fit under the limit; else throws the API's answer. */
  async admit<T>(count: number, write: () => Promise<T>): Promise<T> {
    if (this.maxLiveTasks === 0 || count === 0) return write();
    const held = (await this.held()) + this.createdSinceCount + this.writing;
    if (held + count > this.maxLiveTasks) {
      throw new ApiError(
        'rate_limited',
        `ZooKeeper holds about ${held} tasks and ${MAX_LIVE_TASKS_VARIABLE} allows ${this.maxLiveTasks}: ` +
          `${count} more do not fit; retry once tasks have finished (or cancel some)`,
        [{ field: 'tasks', reason: `at most ${this.maxLiveTasks} tasks may be live` }],
      );
    }
    this.writing += count;
    try {
      return await write();
    } finally {
      this.writing -= count;
      this.createdSinceCount += count;
    }
  }

  private async held(): Promise<number> {
    let current = this.count;
    if (current === undefined || (await current).at + COUNT_TTL_MS < Date.now()) {
      current = this.count = this.readCount();
      // A failed read is not kept: the next call reads again.
      current.catch(() => (this.count = undefined));
    }
    return (await current).tasks;
  }

  private async readCount(): Promise<{ tasks: number; at: number }> {
    const at = Date.now();
    const stat = await this.client.exists(ZkLayout.tasks);
    this.createdSinceCount = 0;
    return { tasks: stat?.numChildren ?? 0, at };
  }
}
