import { Inject, Injectable } from '@nestjs/common';
import type { Environment } from '@app/common';
import { ApiError } from '@app/common/api';
import { ZkLayout } from '@app/contracts';
import { ZkClient } from '@app/zk';
import { loadCountLimit } from './count-limit-setting';

/**
 * `API_MAX_JOBS`: how many jobs the cluster may hold; creating one more is
 * answered 409 (gRPC RESOURCE_EXHAUSTED). Every job is a znode and a timer in
 * the leader's heap, so an unbounded count is a way to exhaust both. 0 = no
 * limit. Best effort: creates racing on several replicas may overshoot by a
 * few (the count is read, not locked).
 */
export const MAX_JOBS_VARIABLE = 'API_MAX_JOBS';
export const DEFAULT_MAX_JOBS = 10_000;
const MAX_JOBS_CEILING = 1_000_000;
export const MAX_JOBS = Symbol('MAX_JOBS');

export function loadMaxJobs(env: Environment): number {
  return loadCountLimit(env, MAX_JOBS_VARIABLE, DEFAULT_MAX_JOBS, MAX_JOBS_CEILING);
}

@Injectable()
export class JobLimit {
  constructor(
    private readonly client: ZkClient,
    @Inject(MAX_JOBS) private readonly maxJobs: number,
  ) {}

  /** Throws the API's answer when the cluster already holds the most jobs allowed. */
  async checkRoomForOne(): Promise<void> {
    if (this.maxJobs === 0) return;
    const held = (await this.client.exists(ZkLayout.jobs))?.numChildren ?? 0;
    if (held >= this.maxJobs) {
      throw new ApiError(
        'limit_reached',
        `the cluster holds ${held} jobs, the most ${MAX_JOBS_VARIABLE} allows (${this.maxJobs}): delete jobs first`,
        [{ field: 'jobs', reason: `at most ${this.maxJobs} jobs may exist` }],
      );
    }
  }
}
