/** JSON of the ephemeral member nodes under `/members/<kind>/<id>`. */

export interface MemberInfo {
  /** `host:port` of the member's HTTP endpoint. */
  endpoint: string;
  pid: number;
  startedAt: number;
}

export interface WorkerInfo extends MemberInfo {
  capacity: number;
  labels: Record<string, string>;
  /** Set while shutting down: the leader assigns nothing more to it. */
  draining?: boolean;
}

/** `/leader`: who leads the schedulers now, written by the leader when elected. */
export interface LeaderInfo {
  id: string;
  pid: number;
  endpoint: string;
  since: number;
  fencingToken: string;
}
