import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `webhook_subscriptions` (made by the migrations; see 1796601600000-create-webhook-tables). */
@Entity({ name: 'webhook_subscriptions' })
export class WebhookSubscriptionEntity {
  @PrimaryColumn({
    name: 'id',
    type: 'uuid',
    primaryKeyConstraintName: 'webhook_subscriptions_pkey',
  })
  id!: string;

  @Column({ name: 'url', type: 'text' })
  url!: string;

  @Column({ name: 'events', type: 'text', array: true })
  events!: string[];

  @Column({ name: 'job_id', type: 'text', collation: 'C', nullable: true })
  jobId!: string | null;

  @Column({ name: 'task_type', type: 'text', nullable: true })
  taskType!: string | null;

  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed!: string;

  @Column({ name: 'matched_seq', type: 'bigint' })
  matchedSeq!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
