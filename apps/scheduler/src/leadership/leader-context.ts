import type { ZkClient, FencingToken, StructuredLogger } from '@app/zk';
import type { AuditEvent, AuditEventType } from '@app/contracts';
import { TaskWrites, type AuditFields, type AuditWriter, type WriteBatcher } from '@app/store';
import type { SchedulerTuning } from '../scheduler-tuning';
import { NO_LEADER_METRICS, type LeaderMetrics } from './scheduler-metrics';

/**
 * What every part of one leadership term shares. `writes` commits fenced
 * transactions: ZooKeeper refuses them once this term has ended.
 */
export class LeaderContext {
  private ended = false;
  /** Task transitions, committed through the term's fenced `writes`. */
  readonly tasks: TaskWrites;

  constructor(
    readonly client: ZkClient,
    readonly writes: WriteBatcher,
    private readonly auditWriter: AuditWriter,
    readonly token: FencingToken,
    readonly tuning: SchedulerTuning,
    readonly logger: StructuredLogger,
    readonly metrics: LeaderMetrics = NO_LEADER_METRICS,
    readonly now: () => number = Date.now,
  ) {
    this.tasks = new TaskWrites(client, writes);
  }

  /** False once the term has ended: callbacks of old watches and timers stop here. */
  get active(): boolean {
    return !this.ended;
  }

  end(): void {
    this.ended = true;
  }

  get fencingToken(): string {
    return `${this.token.epoch}:${this.token.candidatePath}`;
  }

  /** An audit event of this term: it carries the fencing token. */
  readonly event = (type: AuditEventType, fields: AuditFields = {}): AuditEvent =>
    this.auditWriter.event(type, { ...fields, fencingToken: this.fencingToken });
}
