/**
 * The chaos workload, every choice drawn from the seeded generator: cron jobs
 * firing every second (one per concurrency policy, plus one whose first
 * attempt always fails), a stream of one-off tasks with random durations,
 * failures, timeouts and retries, gang tasks, and a few thousand jobs that
 * never fire in the run (created, patched and deleted in batches while the
 * faults happen: the schedulers' job views and takeovers carry them). Submissions carry an
 * idempotency key, so a call whose answer was lost (a process killed, the
 * quorum gone) is simply sent again until it is acknowledged: every task the
 * run ever asked for ends up with a known id.
 */
import type { ChaosCluster } from './chaos-cluster';
import type { Rng } from '../support/rng';

export interface CronJob {
  id: string;
  name: string;
  concurrency: 'allow' | 'forbid' | 'replace';
  misfire: 'skip' | 'fire_once' | 'fire_all';
  createdAt: number;
  deletedAt?: number;
}

interface TaskBody {
  type: 'chaos.work';
  payload: { ms: number; failAttempts: number };
  idempotencyKey: string;
  retry: { maxAttempts: number; backoffMs: number };
  timeoutMs?: number;
  parallelism?: number;
}

export interface WorkloadStats {
  submitted: number;
  gangs: number;
  apiErrors: number;
}

const API_TIMEOUT_MS = 8_000;
/** Jobs defined during the run besides the cron jobs above; they fire on 1 January only. */
const BULK_JOBS = 3_000;
const BULK_BATCH = 500;

export class Workload {
  readonly jobs: CronJob[] = [];
  /** Acknowledged one-off tasks: id → the body sent. */
  readonly tasks = new Map<string, TaskBody>();
  readonly stats: WorkloadStats = { submitted: 0, gangs: 0, apiErrors: 0 };
  private unacknowledged: TaskBody[] = [];
  /** Ids of the bulk jobs that exist (created, not deleted yet). */
  private readonly bulk: string[] = [];
  private bulkSerial = 0;
  /** Its own stream: how many bulk steps run depends on the API's answers, i.e. on timing. */
  private readonly bulkRng: Rng;
  private serial = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly rng: Rng,
    private readonly runId: string,
  ) {
    this.bulkRng = rng.fork();
  }

  async createJobs(): Promise<void> {
    const specs: Array<
      Omit<CronJob, 'id' | 'createdAt' | 'name'> & {
        payload: TaskBody['payload'];
        retry: TaskBody['retry'];
      }
    > = [
      {
        concurrency: 'allow',
        misfire: 'fire_all',
        payload: { ms: this.rng.int(100, 600), failAttempts: 0 },
        retry: { maxAttempts: 1, backoffMs: 100 },
      },
      {
        concurrency: 'forbid',
        misfire: 'skip',
        payload: { ms: this.rng.int(1_100, 1_900), failAttempts: 0 },
        retry: { maxAttempts: 1, backoffMs: 100 },
      },
      {
        concurrency: 'replace',
        misfire: 'fire_once',
        payload: { ms: this.rng.int(1_100, 1_900), failAttempts: 0 },
        retry: { maxAttempts: 1, backoffMs: 100 },
      },
      {
        concurrency: 'allow',
        misfire: 'fire_once',
        payload: { ms: this.rng.int(20, 200), failAttempts: 1 },
        retry: { maxAttempts: 2, backoffMs: 300 },
      },
    ];
    for (const [i, spec] of specs.entries()) {
      const name = `chaos-${this.runId}-${i}-${spec.concurrency}`;
      const body = {
        name,
        type: 'chaos.work',
        payload: spec.payload,
        schedule: '* * * * * *',
        concurrency: spec.concurrency,
        misfire: spec.misfire,
        retry: spec.retry,
      };
      const created = await this.untilOk<{ id: string }>('POST', '/v1/jobs', body, [201]);
      this.jobs.push({
        id: created.id,
        name,
        concurrency: spec.concurrency,
        misfire: spec.misfire,
        createdAt: Date.now(),
      });
    }
  }

  /** Submits one-off and gang tasks until stop(). */
  start(): void {
    this.running = true;
    this.loop = (async () => {
      let nextGang = Date.now() + 3_000;
      while (this.running) {
        const batch = Array.from({ length: this.rng.int(1, 4) }, () => this.oneOff());
        if (Date.now() >= nextGang) {
          batch.push(this.gang());
          nextGang = Date.now() + this.rng.int(4_000, 8_000);
        }
        this.unacknowledged.push(...batch);
        await this.flush();
        await this.changeBulkJobs();
        await sleep(this.rng.int(300, 900));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Sends what is not acknowledged yet until all of it is (the cluster is whole again). */
  async settle(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.unacknowledged.length > 0) {
      if (Date.now() > deadline)
        throw new Error(`${this.unacknowledged.length} submissions never acknowledged`);
      await this.flush();
      if (this.unacknowledged.length > 0) await sleep(500);
    }
  }

  /** Deletes every cron job (the end of their window) and every bulk job. */
  async deleteJobs(): Promise<void> {
    for (const job of this.jobs) {
      await this.untilOk('DELETE', `/v1/jobs/${job.id}`, undefined, [204, 404]);
      job.deletedAt = Date.now();
    }
    // By name, not by the ids known: a batch whose answer was lost may have been created.
    const prefix = `chaos-${this.runId}-bulk-`;
    for (;;) {
      const page = await this.untilOk<{ items: Array<{ id: string }> }>(
        'GET',
        `/v1/jobs?limit=1000&name=${prefix}`,
        undefined,
        [200],
      );
      if (page.items.length === 0) return;
      const ids = page.items.map((job) => job.id);
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let id = ids.pop(); id !== undefined; id = ids.pop()) {
            await this.untilOk('DELETE', `/v1/jobs/${id}`, undefined, [204, 404]);
          }
        }),
      );
    }
  }

  /**
   * One step of the bulk jobs: a batch created while fewer than BULK_JOBS
   * exist, else a few paused, resumed or deleted. A batch whose answer was
   * lost is not retried (its names are unique; a later one takes its place).
   */
  private async changeBulkJobs(): Promise<void> {
    if (this.bulk.length < BULK_JOBS) {
      const jobs = Array.from({ length: BULK_BATCH }, () => ({
        name: `chaos-${this.runId}-bulk-${++this.bulkSerial}`,
        type: 'chaos.work',
        payload: { ms: 0, failAttempts: 0 },
        schedule: `${this.bulkRng.int(0, 59)} ${this.bulkRng.int(0, 23)} 1 1 *`,
        timezone: this.bulkRng.chance(0.5) ? 'UTC' : 'Europe/Paris',
      }));
      const response = await this.call<{ items: Array<{ job?: { id: string } }> }>(
        'POST',
        '/v1/jobs/batch',
        { jobs },
      );
      if (response?.status === 200) {
        for (const item of response.body.items) if (item.job) this.bulk.push(item.job.id);
      }
      return;
    }
    for (let i = 0; i < 5; i++) {
      const index = this.bulkRng.below(this.bulk.length);
      const id = this.bulk[index];
      if (this.bulkRng.chance(0.5)) {
        const response = await this.call('DELETE', `/v1/jobs/${id}`);
        if (response && [204, 404].includes(response.status)) this.bulk.splice(index, 1);
      } else {
        await this.call('PATCH', `/v1/jobs/${id}`, { paused: this.bulkRng.chance(0.5) });
      }
    }
  }

  private oneOff(): TaskBody {
    const roll = this.rng.next();
    const failAttempts = roll < 0.7 ? 0 : roll < 0.85 ? 1 : roll < 0.95 ? 2 : 9;
    const body: TaskBody = {
      type: 'chaos.work',
      payload: { ms: this.rng.int(0, 2_500), failAttempts },
      idempotencyKey: `chaos-${this.runId}-${++this.serial}`,
      retry: { maxAttempts: 3, backoffMs: 250 },
    };
    if (this.rng.chance(0.08)) {
      body.payload.ms = 3_000;
      body.timeoutMs = 800; // times out every attempt: failed after its retries
    } else if (this.rng.chance(0.1)) {
      // Outlives the session timeout: a worker cut off ZooKeeper mid-task must abort
      // it on its own before the leader hands it on (check 7 sees it otherwise).
      body.payload.ms = this.rng.int(6_000, 12_000);
    }
    this.stats.submitted++;
    return body;
  }

  private gang(): TaskBody {
    this.stats.submitted++;
    this.stats.gangs++;
    return {
      type: 'chaos.work',
      payload: { ms: this.rng.int(200, 1_500), failAttempts: this.rng.chance(0.25) ? 1 : 0 },
      idempotencyKey: `chaos-${this.runId}-${++this.serial}`,
      retry: { maxAttempts: 2, backoffMs: 300 },
      parallelism: 2,
    };
  }

  private async flush(): Promise<void> {
    if (this.unacknowledged.length === 0) return;
    const batch = this.unacknowledged.slice(0, 200);
    const response = await this.call<{ items: Array<{ id: string }> }>('POST', '/v1/tasks/batch', {
      tasks: batch,
    });
    if (response === undefined || response.status >= 500) return;
    if (response.status !== 202) {
      throw new Error(`the batch was refused: ${response.status} ${JSON.stringify(response.body)}`);
    }
    response.body.items.forEach((item, i) => this.tasks.set(item.id, batch[i]));
    this.unacknowledged = this.unacknowledged.slice(batch.length);
  }

  private async untilOk<T>(method: string, path: string, body: unknown, ok: number[]): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const response = await this.call<T>(method, path, body);
      if (response && ok.includes(response.status)) return response.body;
      if (attempt >= 120)
        throw new Error(
          `${method} ${path}: no success after ${attempt} attempts (last ${response?.status} ${JSON.stringify(response?.body)})`,
        );
      await sleep(1_000);
    }
  }

  /** One API call to a random live scheduler; undefined when it could not be made. */
  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T } | undefined> {
    // Not from the seeded generator: which schedulers are live depends on timing,
    // and the workload's own draws must not shift with it.
    const target = this.cluster.apiProcess((live) => live[Math.floor(Math.random() * live.length)]);
    if (!target) return undefined;
    try {
      const response = await fetch(target.url(path), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status >= 500) this.stats.apiErrors++;
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    } catch {
      this.stats.apiErrors++;
      return undefined;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
