import {
  ClientClosedError,
  GroupMembership,
  NoNodeError,
  Op,
  ZkClient,
  type WatchEvent,
} from '@app/zk';
import { ZkLayout, type TaskRecord, type WorkerInfo } from '@app/contracts';
import { AuditWriter, WriteBatcher, decodeJson, encodeJson, toFailedAttempt } from '@app/store';

export type Behaviour = 'succeed' | 'fail' | 'hold' | 'ignore';

export interface HeldTask {
  record: TaskRecord;
  version: number;
}

/**
 * A worker that follows docs/task-protocol.md by hand, with a behaviour chosen
 * per task type, so leader tests control exactly what a worker does (hold a
 * task, never report, fail) without the real worker's engine.
 */
export class ProtocolWorker {
  readonly seen: HeldTask[] = [];
  readonly held = new Map<string, HeldTask>();
  private readonly membership: GroupMembership<WorkerInfo>;
  private readonly writes: WriteBatcher;
  private readonly audit: AuditWriter;
  private readonly known = new Set<string>();
  private closed = false;
  private readonly watcher = (): void => {
    // A watch can fire while the test tears down: after close nothing is looked at.
    this.look().catch((error: unknown) => {
      if (!this.closed && !(error instanceof ClientClosedError)) throw error;
    });
  };

  constructor(
    readonly client: ZkClient,
    readonly id: string,
    info: Partial<WorkerInfo>,
    private readonly behaviourOf: (record: TaskRecord) => Behaviour = () => 'succeed',
  ) {
    this.membership = new GroupMembership<WorkerInfo>(client, {
      path: ZkLayout.members('workers'),
      id,
      data: {
        endpoint: 'test:0',
        pid: process.pid,
        startedAt: Date.now(),
        capacity: 8,
        labels: {},
        ...info,
      },
    });
    this.writes = new WriteBatcher({ commit: (ops) => client.multi(ops) });
    this.audit = new AuditWriter(`test-worker/${id}`);
  }

  async start(): Promise<void> {
    await this.client.mkdirp(ZkLayout.assignments(this.id));
    await this.membership.start();
    await this.look();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.membership.close();
  }

  /** Finishes a held task the way a real worker would. */
  async finish(taskId: string, outcome: 'succeeded' | 'failed'): Promise<void> {
    const held = this.held.get(taskId);
    if (!held) throw new Error(`${this.id} does not hold ${taskId}`);
    this.held.delete(taskId);
    await this.report(held, outcome);
  }

  private async look(): Promise<void> {
    if (this.closed) return;
    const { children } = await this.client.children(
      ZkLayout.assignments(this.id),
      this.watcher as (e: WatchEvent) => void,
    );
    // The leader's notes (AssignmentNote) are an optimisation this by-hand worker does
    // without (it reads each task): it only deletes them, as a worker must.
    for (const name of children.filter(ZkLayout.isAssignmentNote)) {
      this.client.delete(`${ZkLayout.assignments(this.id)}/${name}`).catch((error: unknown) => {
        if (!this.closed && !(error instanceof NoNodeError || error instanceof ClientClosedError))
          throw error;
      });
    }
    const fresh = children.filter((id) => !this.known.has(id) && !ZkLayout.isAssignmentNote(id));
    for (const id of children) this.known.add(id);
    for (const id of [...this.known]) if (!children.includes(id)) this.known.delete(id);
    await Promise.all(fresh.map((id) => this.take(id)));
  }

  private async take(taskId: string): Promise<void> {
    const { data, stat } = await this.client.get(ZkLayout.task(taskId));
    const task: HeldTask = { record: decodeJson<TaskRecord>(data), version: stat.version };
    this.seen.push(task);
    const behaviour = this.behaviourOf(task.record);
    if (behaviour === 'hold') this.held.set(taskId, task);
    if (behaviour === 'succeed' || behaviour === 'fail') {
      await this.report(task, behaviour === 'succeed' ? 'succeeded' : 'failed');
    }
  }

  private async report(task: HeldTask, outcome: 'succeeded' | 'failed'): Promise<void> {
    const now = Date.now();
    const next: TaskRecord =
      outcome === 'succeeded'
        ? {
            ...task.record,
            state: 'succeeded',
            result: { by: this.id },
            startedAt: now,
            finishedAt: now,
          }
        : toFailedAttempt(task.record, { code: 'handler', message: 'told to fail' }, now);
    await this.writes.submit({
      ops: [
        Op.set(ZkLayout.task(task.record.id), encodeJson(next), task.version),
        Op.delete(ZkLayout.assignment(this.id, task.record.id)),
      ],
      events: [
        this.audit.event(outcome === 'succeeded' ? 'task.succeeded' : 'task.failed', {
          taskId: task.record.id,
        }),
      ],
    });
  }
}
