/**
 * The messages of `registry.proto` as `@grpc/proto-loader` delivers them with
 * PROTO_LOADER_OPTIONS (camelCase, unset optional fields undefined). Written by
 * hand: keep in step with the .proto file.
 */

export type GetClusterRequest = Record<string, never>;

export interface LeaderMessage {
  id: string;
  pid: number;
  endpoint: string;
  since: string;
  fencingToken: string;
  epoch: string;
  inElection: boolean;
}

export interface MemberMessage {
  id: string;
  endpoint: string;
  pid: number;
  startedAt: string;
}

export interface SchedulerMessage extends MemberMessage {
  leader: boolean;
}

export interface WorkerMessage extends MemberMessage {
  capacity: number;
  running: number;
  labels: Record<string, string>;
  draining: boolean;
}

export interface RegistryMessage extends MemberMessage {
  drainer: boolean;
}

export interface ClusterMessage {
  leader?: LeaderMessage;
  schedulers: SchedulerMessage[];
  workers: WorkerMessage[];
  registries: RegistryMessage[];
  drainer?: string;
  stale: boolean;
  outboxDepth?: number;
  zookeeperState: string;
}

export interface QueryAuditRequest {
  jobId?: string;
  taskId?: string;
  workerId?: string;
  type?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
}

export interface AuditEventMessage {
  seq: string;
  id: string;
  time: string;
  type: string;
  jobId?: string;
  taskId?: string;
  workerId?: string;
  attempt?: number;
  actor: string;
  fencingToken?: string;
  detailJson?: string;
}

export interface QueryAuditResponse {
  items: AuditEventMessage[];
  nextCursor?: string;
}

export interface StreamEventsRequest {
  lastEventId?: string;
  jobId?: string;
  taskId?: string;
  workerId?: string;
  type?: string;
}
