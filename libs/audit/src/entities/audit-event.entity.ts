import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * `audit_events`: every audit event once (unique `event_id`), in insertion
 * order (`seq`, the keyset cursor of `GET /v1/audit`). The schema is made by
 * the migrations; this entity describes it (a test checks the two agree).
 *
 * Indexes, one per filter of `GET /v1/audit`, each ending in `seq` so that a
 * filtered page is an ordered index range read that stops after `limit + 1`
 * rows (bench/audit-query.ts prints the plans). The id columns are partial
 * (`IS NOT NULL`): job, leader and worker events have no task id, and so on.
 */
@Entity({ name: 'audit_events' })
@Unique('audit_events_event_id_key', ['eventId'])
@Index('audit_events_task_id_seq_idx', ['taskId', 'seq'], { where: 'task_id IS NOT NULL' })
@Index('audit_events_job_id_seq_idx', ['jobId', 'seq'], { where: 'job_id IS NOT NULL' })
@Index('audit_events_worker_id_seq_idx', ['workerId', 'seq'], { where: 'worker_id IS NOT NULL' })
@Index('audit_events_type_seq_idx', ['type', 'seq'])
@Index('audit_events_time_seq_idx', ['time', 'seq'])
export class AuditEventEntity {
  /** bigint: node-postgres returns it as a decimal string. */
  @PrimaryGeneratedColumn('increment', {
    name: 'seq',
    type: 'bigint',
    primaryKeyConstraintName: 'audit_events_pkey',
  })
  seq!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'time', type: 'timestamptz' })
  time!: Date;

  @Column({ name: 'type', type: 'text', collation: 'C' })
  type!: string;

  @Column({ name: 'job_id', type: 'text', collation: 'C', nullable: true })
  jobId!: string | null;

  @Column({ name: 'task_id', type: 'text', collation: 'C', nullable: true })
  taskId!: string | null;

  @Column({ name: 'worker_id', type: 'text', collation: 'C', nullable: true })
  workerId!: string | null;

  @Column({ name: 'attempt', type: 'integer', nullable: true })
  attempt!: number | null;

  @Column({ name: 'actor', type: 'text' })
  actor!: string;

  @Column({ name: 'fencing_token', type: 'text', nullable: true })
  fencingToken!: string | null;

  @Column({ name: 'detail', type: 'jsonb', nullable: true })
  detail!: Record<string, unknown> | null;
}
