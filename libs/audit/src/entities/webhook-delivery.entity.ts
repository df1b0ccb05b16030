import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** `webhook_deliveries` (made by the migrations; see 1796601600000-create-webhook-tables). */
@Entity({ name: 'webhook_deliveries' })
@Unique('webhook_deliveries_subscription_event_key', ['subscriptionId', 'eventId'])
@Index('webhook_deliveries_pending_idx', ['subscriptionId', 'seq'], { where: "state = 'pending'" })
@Index('webhook_deliveries_subscription_seq_idx', ['subscriptionId', 'seq'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('increment', {
    name: 'seq',
    type: 'bigint',
    primaryKeyConstraintName: 'webhook_deliveries_pkey',
  })
  seq!: string;

  @Column({ name: 'subscription_id', type: 'uuid' })
  subscriptionId!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'body', type: 'text' })
  body!: string;

  @Column({ name: 'state', type: 'text' })
  state!: string;

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt!: Date | null;

  @Column({ name: 'last_status', type: 'integer', nullable: true })
  lastStatus!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
