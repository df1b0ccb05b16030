import type { TaskError, TaskRecord } from '@app/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * `task_history`: one row per task, folded from its audit events as they are
 * appended (see task-history-fold.ts), and completed with the task's final
 * record when it leaves ZooKeeper. `last_seq` is the seq of the last event
 * folded in: an event at or below it is never folded again, so a row never
 * moves backwards.
 */
@Entity({ name: 'task_history' })
@Index('task_history_job_id_task_id_idx', ['jobId', 'taskId'], { where: 'job_id IS NOT NULL' })
@Index('task_history_state_task_id_idx', ['state', 'taskId'])
export class TaskHistoryEntity {
  @PrimaryColumn({
    name: 'task_id',
    type: 'text',
    collation: 'C',
    primaryKeyConstraintName: 'task_history_pkey',
  })
  taskId!: string;

  @Column({ name: 'job_id', type: 'text', collation: 'C', nullable: true })
  jobId!: string | null;

  @Column({ name: 'type', type: 'text', nullable: true })
  type!: string | null;

  @Column({ name: 'state', type: 'text', collation: 'C' })
  state!: string;

  @Column({ name: 'attempt', type: 'integer', default: 0 })
  attempt!: number;

  @Column({ name: 'worker_id', type: 'text', collation: 'C', nullable: true })
  workerId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', nullable: true })
  createdAt!: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'error', type: 'jsonb', nullable: true })
  error!: TaskError | null;

  @Column({ name: 'record', type: 'jsonb', nullable: true })
  record!: TaskRecord | null;

  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq!: string;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
