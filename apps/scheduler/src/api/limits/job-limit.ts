import { Inject, Injectable } from '@nestjs/common';
import type { Environment } from '@app/common';
import { ApiError } from '@app/common/api';
import { ZkLayout } from '@app/contracts';
import { ZkClient } from '@app/zk';
import { JobCatalog } from '../../catalog/job-catalog';
import { loadCountLimit } from './count-limit-setting';

/**
 * `API_MAX_JOBS`: how many jobs the cluster may hold; creating one more is
 * answered 409 (gRPC RESOURCE_EXHAUSTED). Every job is three znodes in
 * ZooKeeper's memory and an entry in every scheduler's job view, so an
 * unbounded count is a way to exhaust both (sizing: docs/operations.md).
 * 0 = no limit. Best effort: creates racing on several replicas may overshoot
 * by the creates in flight elsewhere (the count is read, not locked).
 */
export const MAX_JOBS_VARIABLE = 'API_MAX_JOBS';
export const DEFAULT_MAX_JOBS = 100_000;
const MAX_JOBS_CEILING = 1_000_000;
export const MAX_JOBS = Symbol('MAX_JOBS');

export function loadMaxJobs(env: Environment): number {
  return loadCountLimit(env, MAX_JOBS_VARIABLE, DEFAULT_MAX_JOBS, MAX_JOBS_CEILING);
}

@Injectable()
export class JobLimit {
  /** Creates of this replica not yet committed: counted against the limit too. */
  private inFlight = 0;

  constructor(
    private readonly client: ZkClient,
    private readonly catalog: JobCatalog,
    @Inject(MAX_JOBS) private readonly maxJobs: number,
  ) {}

  /**
   * Runs `create` (which makes `count` jobs) when the cluster has room for them,
   * else throws the API's answer. The count is this replica's job view (plus
   * its creates in flight), or ZooKeeper's while the view is not built yet.
   */
  async admit<T>(count: number, create: () => Promise<T>): Promise<T> {
    if (this.maxJobs !== 0) {
      const held = (await this.held()) + this.inFlight;
      if (held + count > this.maxJobs) throw limitReached(held, this.maxJobs);
    }
    this.inFlight += count;
    try {
      return await create();
    } finally {
      this.inFlight -= count;
    }
  }

  /** How many more jobs fit now (Infinity without a limit). */
  async room(): Promise<number> {
    if (this.maxJobs === 0) return Infinity;
    return Math.max(0, this.maxJobs - (await this.held()) - this.inFlight);
  }

  private async held(): Promise<number> {
    if (this.catalog.hasBuilt) return this.catalog.size;
    return (await this.client.exists(ZkLayout.jobs))?.numChildren ?? 0;
  }
}

export function limitReached(held: number, maxJobs: number): ApiError {
  return new ApiError(
    'limit_reached',
    `the cluster holds ${held} jobs, the most ${MAX_JOBS_VARIABLE} allows (${maxJobs}): delete jobs first`,
    [{ field: 'jobs', reason: `at most ${maxJobs} jobs may exist` }],
  );
}
