/**
 * Response shapes as classes, for the OpenAPI document; the services build plain
 * objects of the same interfaces (`@app/contracts/dto/registry-api`).
 */
import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '@app/contracts';
import { API_ROLES, type ApiRole } from '@app/common';
import type {
  AccessView,
  AuditEventView,
  AuditPageView,
  ClusterView,
  LeaderView,
  RegistryView,
  SchedulerView,
  TaskRatesView,
  WorkerView,
} from '@app/contracts/dto/registry-api';

const TIME = { type: String, format: 'date-time' } as const;
const OPTIONAL_TEXT = { type: String, nullable: true } as const;

export class AuditEventDto implements AuditEventView {
  @ApiProperty({
    example: '1024',
    description: 'Order of the whole history; the cursor and SSE id.',
  })
  seq!: string;
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty(TIME) time!: string;
  @ApiProperty({ enum: AUDIT_EVENT_TYPES }) type!: AuditEventType;
  @ApiProperty(OPTIONAL_TEXT) jobId!: string | null;
  @ApiProperty(OPTIONAL_TEXT) taskId!: string | null;
  @ApiProperty(OPTIONAL_TEXT) workerId!: string | null;
  @ApiProperty({ type: Number, nullable: true }) attempt!: number | null;
  @ApiProperty({
    example: 'scheduler/scheduler-1/4242',
    description: '<service>/<member id>/<pid>',
  })
  actor!: string;
  @ApiProperty({ ...OPTIONAL_TEXT, description: 'The leader fencing token of a leader write.' })
  fencingToken!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  detail!: Record<string, unknown> | null;
}

export class AuditPageDto implements AuditPageView {
  @ApiProperty({ type: () => [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty({
    ...OPTIONAL_TEXT,
    description: 'Pass as `cursor`; null when nothing more matches now.',
  })
  nextCursor!: string | null;
}

export class LeaderDto implements LeaderView {
  @ApiProperty() id!: string;
  @ApiProperty() pid!: number;
  @ApiProperty({ example: 'localhost:3000' }) endpoint!: string;
  @ApiProperty(TIME) since!: string;
  @ApiProperty({ example: '4294967302:/election/scheduler/_c_…-n-0000000003' })
  fencingToken!: string;
  @ApiProperty({
    example: '4294967302',
    description:
      'The fencing token’s epoch (creation zxid of the candidate node): higher for every later leader.',
  })
  epoch!: string;
  @ApiProperty({ description: 'False when the leader named in /leader has left the election.' })
  inElection!: boolean;
}

class MemberDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'host:3002' }) endpoint!: string;
  @ApiProperty() pid!: number;
  @ApiProperty(TIME) startedAt!: string;
}

export class SchedulerDto extends MemberDto implements SchedulerView {
  @ApiProperty() leader!: boolean;
}

export class WorkerDto extends MemberDto implements WorkerView {
  @ApiProperty() capacity!: number;
  @ApiProperty({ description: 'Assignments held now (children of /assign/<worker>).' })
  running!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;
  @ApiProperty({ description: 'Shutting down: assigned nothing more.' }) draining!: boolean;
}

export class RegistryDto extends MemberDto implements RegistryView {
  @ApiProperty({ description: 'This registry drains the audit outbox.' }) drainer!: boolean;
}

export class ZooKeeperSessionDto {
  @ApiProperty({ enum: ['latent', 'connecting', 'connected', 'suspended', 'closed'] })
  state!: string;
}

export class ClusterDto implements ClusterView {
  @ApiProperty({ type: () => LeaderDto, nullable: true }) leader!: LeaderDto | null;
  @ApiProperty({ type: () => [SchedulerDto] }) schedulers!: SchedulerDto[];
  @ApiProperty({ type: () => [WorkerDto] }) workers!: WorkerDto[];
  @ApiProperty({ type: () => [RegistryDto] }) registries!: RegistryDto[];
  @ApiProperty({ ...OPTIONAL_TEXT, description: 'Member id of the draining registry.' })
  drainer!: string | null;
  @ApiProperty({
    description: 'True while the view may be out of date (ZooKeeper connection trouble).',
  })
  stale!: boolean;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'Outbox nodes waiting to be drained into PostgreSQL; null while ZooKeeper cannot say.',
  })
  outboxDepth!: number | null;
  @ApiProperty({
    type: () => ZooKeeperSessionDto,
    description: 'This registry’s ZooKeeper session.',
  })
  zookeeper!: ZooKeeperSessionDto;
}

export class AccessDto implements AccessView {
  @ApiProperty({ description: 'False when the cluster runs without API tokens.' })
  tokensRequired!: boolean;
  @ApiProperty({ enum: API_ROLES, description: '`admin` when tokens are not required.' })
  role!: ApiRole;
  @ApiProperty({ type: String, nullable: true, description: 'The name of the caller’s token.' })
  tokenName!: string | null;
}

class SecondCountsDto {
  @ApiProperty({ description: 'Epoch seconds.' }) at!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { 'task.succeeded': 12, 'task.failed': 1 },
  })
  counts!: Record<string, number>;
}

export class TaskRatesDto implements TaskRatesView {
  @ApiProperty(TIME) since!: string;
  @ApiProperty({ type: () => [SecondCountsDto] }) seconds!: SecondCountsDto[];
}
