/**
 * A zk-scheduler cluster of real processes on one ZooKeeper (started by the
 * caller), for end-to-end tests: schedulers and workers as child processes,
 * and a ZooKeeper client of the test's own to look at what they did.
 */
import { randomUUID } from 'node:crypto';
import { ZkClient, NoNodeError, sortBySequence } from '@app/zk';
import { timing } from '@app/zk/testing';
import {
  ZkLayout,
  type AuditEvent,
  type LeaderInfo,
  type OutboxEntry,
  type TaskRecord,
} from '@app/contracts';
import { decodeJson } from '@app/store';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { AppProcess, type AppName } from './app-process';
import { subtreeSize } from './znodes';

export interface LocalClusterOptions {
  connectString: string;
  sessionTimeoutMs?: number;
  env?: Record<string, string>;
  /**
   * DATABASE_URL of every process (the audit history). Default: a fresh
   * database on the shared PostgreSQL server, made at the first start and
   * dropped by close(). (Services that read the history are ready only once
   * PostgreSQL answers.)
   */
  databaseUrl?: string;
  /** Entry files replacing an app's `src/main.ts` (e.g. a worker with extra handlers). */
  entries?: Partial<Record<AppName, string>>;
  /** Readiness timeout of each started process (default 30 s). */
  readyTimeoutMs?: number;
}

export class LocalCluster {
  readonly root = `/e2e-${randomUUID()}`;
  readonly processes: AppProcess[] = [];
  private observer: ZkClient | undefined;
  private serial = 0;
  private database: Promise<TestDatabase> | undefined;

  constructor(private readonly options: LocalClusterOptions) {}

  /** The test's own ZooKeeper client, chrooted like the cluster. */
  async zk(): Promise<ZkClient> {
    if (!this.observer) {
      this.observer = new ZkClient({ connectString: this.options.connectString, root: this.root });
      await this.observer.start();
    }
    return this.observer;
  }

  /** The cluster's DATABASE_URL (a fresh database unless one was given). */
  async databaseUrl(): Promise<string> {
    if (this.options.databaseUrl !== undefined) return this.options.databaseUrl;
    this.database ??= createTestDatabase('zk_e2e');
    return (await this.database).url;
  }

  async start(app: AppName, env: Record<string, string> = {}): Promise<AppProcess> {
    const started = await AppProcess.start(
      app,
      {
        ZK_CONNECT: this.options.connectString,
        ZK_ROOT: this.root,
        ZK_SESSION_TIMEOUT_MS: String(this.options.sessionTimeoutMs ?? 2_000),
        MEMBER_ID: `${app}-${++this.serial}`,
        DATABASE_URL: await this.databaseUrl(),
        ...this.options.env,
        ...env,
      },
      this.options.readyTimeoutMs,
      this.options.entries?.[app],
    );
    this.processes.push(started);
    return started;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.filter((p) => p.isRunning).map((p) => p.signal('SIGKILL')));
    await this.observer?.close();
    const database = this.database;
    this.database = undefined;
    if (database) await (await database).drop();
  }

  /** The registry process that drains the audit outbox now (first in its election), once one does. */
  async drainer(timeoutMs = 15_000): Promise<AppProcess> {
    const zk = await this.zk();
    return timing.waitFor(
      async () => {
        const { children } = await zk.children(ZkLayout.registryElection);
        const first = sortBySequence(children)[0];
        if (first === undefined) return undefined;
        const { id } = JSON.parse(
          (await zk.get(`${ZkLayout.registryElection}/${first}`)).data.toString(),
        ) as { id: string };
        return this.processes.find((p) => p.memberId === id && p.isRunning);
      },
      { timeoutMs, message: 'a live registry drains' },
    );
  }

  /** Znodes under the cluster root (the root itself excluded). */
  async znodeCount(): Promise<number> {
    return subtreeSize(await this.zk(), '/');
  }

  /** The scheduler process that leads now (by `/leader`), once one does. */
  async leader(timeoutMs = 15_000): Promise<AppProcess> {
    const zk = await this.zk();
    return timing.waitFor(
      async () => {
        const { data } = await zk.get(ZkLayout.leader);
        const info = decodeJson<LeaderInfo>(data);
        const election = await zk.children(ZkLayout.schedulerElection);
        if (election.children.length === 0) return undefined;
        return this.processes.find(
          (p) => p.memberId === info.id && p.isRunning && election.children.length > 0,
        );
      },
      { timeoutMs, message: 'a live scheduler leads' },
    );
  }

  async task(id: string): Promise<TaskRecord | undefined> {
    try {
      return decodeJson<TaskRecord>((await (await this.zk()).get(ZkLayout.task(id))).data);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  async waitForTask(
    id: string,
    predicate: (task: TaskRecord) => boolean,
    timeoutMs = 20_000,
  ): Promise<TaskRecord> {
    return timing.waitFor(
      async () => {
        const task = await this.task(id);
        return task && predicate(task) ? task : undefined;
      },
      {
        timeoutMs,
        message: async () =>
          `task ${id} never matched; last: ${JSON.stringify(await this.task(id))}`,
      },
    );
  }

  async tasksOfJob(jobId: string): Promise<TaskRecord[]> {
    const zk = await this.zk();
    const { children } = await zk.children(ZkLayout.tasks);
    const records = await Promise.all(
      children.filter((id) => id.startsWith(`${jobId}@`)).map((id) => this.task(id)),
    );
    return records
      .filter((r): r is TaskRecord => r !== undefined)
      .sort((a, b) => (a.fireTime ?? 0) - (b.fireTime ?? 0));
  }

  /** Every audit event still in the outbox (nothing drains it unless a registry runs). */
  async auditEvents(): Promise<AuditEvent[]> {
    const zk = await this.zk();
    const { children } = await zk.children(ZkLayout.outbox);
    const entries = await Promise.all(
      children
        .sort()
        .map(async (name) =>
          decodeJson<OutboxEntry>((await zk.get(`${ZkLayout.outbox}/${name}`)).data),
        ),
    );
    return entries.flatMap((entry) => entry.events);
  }

  /** A JSON request to a process's HTTP API. */
  async api<T>(
    process: AppProcess,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(process.url(path), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
}
