import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Op, ZkClient, sortBySequence, type ZkOp } from '@app/zk';
import { timing, type TestingServer } from '@app/zk/testing';
import {
  PERSISTENT_PARENTS,
  ZkLayout,
  type AuditEvent,
  type OutboxEntry,
  type TaskRecord,
} from '@app/contracts';
import {
  AuditWriter,
  TaskStore,
  WriteBatcher,
  decodeJson,
  encodeJson,
  newTaskRecord,
  readTask,
  TaskWrites,
  toAssigned,
  type TaskSubmission,
} from '@app/store';
import { httpAdapter, initHttpApplication } from '@app/common';
import { WorkerModule } from '../../src/worker.module';
import { TEST_HANDLERS } from './test-handlers';

export interface WorkerSettings {
  capacity?: number;
  graceMs?: number;
  sessionTimeoutMs?: number;
}

/** The environment a worker of this cluster runs with (also for child processes). */
export function workerEnv(
  server: TestingServer,
  root: string,
  memberId: string,
  settings: WorkerSettings = {},
): Record<string, string> {
  return {
    ZK_CONNECT: server.connectString,
    ZK_ROOT: root,
    ZK_SESSION_TIMEOUT_MS: String(settings.sessionTimeoutMs ?? 4_000),
    MEMBER_ID: memberId,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    WORKER_CAPACITY: String(settings.capacity ?? 8),
    WORKER_SHUTDOWN_GRACE_MS: String(settings.graceMs ?? 200),
  };
}

/**
 * One test's cluster: a fresh ZK_ROOT, a client that plays the leader (it
 * writes task records and assignments exactly as protocol step 2 does), and
 * the worker applications booted in this process.
 */
export class Cluster {
  readonly apps: INestApplication[] = [];

  private constructor(
    readonly server: TestingServer,
    readonly leader: ZkClient,
    readonly root: string,
  ) {}

  static async create(server: TestingServer): Promise<Cluster> {
    const root = `/t-${randomUUID()}`;
    const leader = new ZkClient({ connectString: server.connectString, root });
    await leader.start();
    await Promise.all(PERSISTENT_PARENTS.map((path) => leader.mkdirp(path)));
    return new Cluster(server, leader, root);
  }

  /** Boots a worker application in this process (its environment is set for the compile). */
  async bootWorker(memberId: string, settings: WorkerSettings = {}): Promise<INestApplication> {
    Object.assign(process.env, workerEnv(this.server, this.root, memberId, settings));
    const moduleRef = await Test.createTestingModule({
      imports: [WorkerModule],
      providers: TEST_HANDLERS,
    }).compile();
    const app = moduleRef.createNestApplication(httpAdapter(), { logger: false });
    await initHttpApplication(app);
    this.apps.push(app);
    return app;
  }

  async close(): Promise<void> {
    for (const app of this.apps.splice(0).reverse()) await app.close().catch(() => undefined);
    await this.leader.close();
  }

  /** Step 2 for a new task: the record `assigned` to `workers` (attempt 1) and their assignments. */
  async assign(submission: TaskSubmission, workers: readonly string[]): Promise<TaskRecord> {
    const [record] = await this.assignMany([submission], workers);
    return record;
  }

  /** Step 2 for many new tasks in one multi (no outbox: the tests count the worker's). */
  async assignMany(
    submissions: readonly TaskSubmission[],
    workers: readonly string[],
  ): Promise<TaskRecord[]> {
    const now = Date.now();
    const ops: ZkOp[] = [];
    const records = submissions.map((submission) => {
      const record = toAssigned(newTaskRecord(submission, now), workers, now);
      ops.push(Op.create(ZkLayout.task(record.id), encodeJson(record)));
      for (const worker of workers) {
        ops.push(Op.create(ZkLayout.assignment(worker, record.id), encodeJson({ attempt: 1 })));
      }
      return record;
    });
    await this.ensureInboxes(workers);
    await this.leader.multi(ops);
    return records;
  }

  /**
   * Step 2 exactly as the leader writes it (TaskWrites): the task created
   * pending, then assigned in a compare-and-set whose assignment nodes carry
   * the record and its version.
   */
  async assignAsLeader(
    submission: TaskSubmission,
    workers: readonly string[],
  ): Promise<TaskRecord> {
    const now = Date.now();
    const pending = newTaskRecord(submission, now);
    await this.ensureInboxes(workers);
    await this.leader.create(ZkLayout.task(pending.id), encodeJson(pending));
    const writes = new WriteBatcher({ commit: (ops) => this.leader.multi(ops) });
    const next = toAssigned(pending, workers, now);
    const outcome = await new TaskWrites(this.leader, writes).commit({
      from: { record: pending, version: 0 },
      next,
      events: [],
      assign: workers,
    });
    if (outcome.kind !== 'written') throw new Error(`assigning ${pending.id}: ${outcome.kind}`);
    return next;
  }

  /** Step 5: a `retrying` (or pending) task assigned again, attempt + 1. */
  async reassign(id: string, workers: readonly string[]): Promise<TaskRecord> {
    const { record, version } = await this.task(id);
    const next = toAssigned(record, workers, Date.now());
    await this.leader.multi([
      Op.set(ZkLayout.task(id), encodeJson(next), version),
      ...workers.map((w) =>
        Op.create(ZkLayout.assignment(w, id), encodeJson({ attempt: next.attempt })),
      ),
    ]);
    return next;
  }

  async task(id: string): Promise<{ record: TaskRecord; version: number }> {
    const task = await readTask(this.leader, id);
    if (!task) throw new Error(`task ${id} does not exist`);
    return task;
  }

  /** Protocol step 8 as the API does it. */
  cancel(id: string, reason = 'cancelled by the test'): Promise<TaskRecord> {
    const writes = new WriteBatcher({ commit: (ops) => this.leader.multi(ops) });
    return new TaskStore(this.leader, writes, new AuditWriter('test/api/1')).cancel(id, reason);
  }

  /** Waits until the task's record satisfies `predicate`. */
  waitForTask(
    id: string,
    predicate: (record: TaskRecord, version: number) => boolean,
    timeoutMs = 10_000,
  ): Promise<{ record: TaskRecord; version: number }> {
    return timing.waitFor(
      async () => {
        const task = await this.task(id);
        return predicate(task.record, task.version) ? task : undefined;
      },
      {
        timeoutMs,
        intervalMs: 10,
        message: async () => `task ${id}: ${JSON.stringify(await this.task(id).catch(String))}`,
      },
    );
  }

  async assignmentExists(worker: string, id: string): Promise<boolean> {
    return (await this.leader.exists(ZkLayout.assignment(worker, id))) !== null;
  }

  /** Outbox nodes in order, each with its events. */
  async outbox(): Promise<AuditEvent[][]> {
    const { children } = await this.leader.children(ZkLayout.outbox);
    const entries = await Promise.all(
      sortBySequence(children).map((name) => this.leader.get(`${ZkLayout.outbox}/${name}`)),
    );
    return entries.map(({ data }) => decodeJson<OutboxEntry>(data).events);
  }

  /** Events about one task, in order. */
  async eventsOf(id: string): Promise<AuditEvent[]> {
    return (await this.outbox()).flat().filter((event) => event.taskId === id);
  }

  private async ensureInboxes(workers: readonly string[]): Promise<void> {
    await Promise.all(workers.map((w) => this.leader.mkdirp(ZkLayout.assignments(w))));
  }
}
