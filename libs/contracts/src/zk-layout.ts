import { createHash } from 'node:crypto';

/**
 * The ZooKeeper layout (relative to the cluster root, `ZK_ROOT`). Every service
 * builds paths here and nowhere else.
 */
export const ZkLayout = {
  schedulerElection: '/election/scheduler',
  registryElection: '/election/registry',
  leader: '/leader',
  members: (kind: MemberKind) => `/members/${kind}`,
  member: (kind: MemberKind, id: string) => `/members/${kind}/${id}`,
  jobs: '/jobs',
  job: (id: string) => `/jobs/${id}`,
  jobStates: '/jobstate',
  jobState: (id: string) => `/jobstate/${id}`,
  /**
   * The job change log: every write of `/jobs/<id>` or `/jobstate/<id>` appends
   * `/jobchanges/c-<seq>` (a JobChangeNote) in the same transaction; every
   * scheduler replica follows it. The parent's data is the collection mark.
   */
  jobChanges: '/jobchanges',
  /** Unique job names: `/jobnames/<name>` holds the job id. */
  jobNames: '/jobnames',
  jobName: (name: string) => `/jobnames/${encodeName(name)}`,
  tasks: '/tasks',
  task: (id: string) => `/tasks/${id}`,
  /** Notifications of new pending tasks for the leader: sequential nodes. */
  queue: '/queue',
  queueEntryPrefix: '/queue/q-',
  queueEntry: (name: string) => `/queue/${name}`,
  assignRoot: '/assign',
  assignments: (workerId: string) => `/assign/${workerId}`,
  assignment: (workerId: string, taskId: string) => `/assign/${workerId}/${taskId}`,
  /**
   * The leader's notes to a worker beside its assignments, one per transaction
   * that assigns it tasks (AssignmentNote): `_n-<seq>`, a name no task id can
   * have (ids start with a letter or digit).
   */
  assignmentNotePrefix: (workerId: string) => `/assign/${workerId}/_n-`,
  isAssignmentNote: (name: string) => name.startsWith('_n-'),
  /**
   * `/idempotency/<sha256 of owner and key>` holds the task id submitted with
   * that key by that token (keys are per token; without an owner, the key alone).
   */
  idempotencyRoot: '/idempotency',
  idempotency: (key: string, owner?: string) =>
    `/idempotency/${createHash('sha256')
      .update(owner === undefined ? key : `${owner}\n${key}`)
      .digest('hex')}`,
  outbox: '/audit/outbox',
  outboxEntryPrefix: '/audit/outbox/e-',
  /** Outbox nodes the drain could not read or store, moved aside (kept for inspection). */
  deadLetters: '/audit/dead',
  deadLetter: (name: string) => `/audit/dead/${name}`,
  barrier: (taskId: string, attempt: number) => `/barriers/${taskId}-${attempt}`,
  barriers: '/barriers',
} as const;

export type MemberKind = 'schedulers' | 'workers' | 'registries';

/** Persistent parents every service may rely on; created at start (idempotent). */
export const PERSISTENT_PARENTS: readonly string[] = [
  ZkLayout.jobs,
  ZkLayout.jobStates,
  ZkLayout.jobNames,
  ZkLayout.jobChanges,
  ZkLayout.tasks,
  ZkLayout.queue,
  ZkLayout.assignRoot,
  ZkLayout.idempotencyRoot,
  ZkLayout.outbox,
  ZkLayout.barriers,
  ZkLayout.members('schedulers'),
  ZkLayout.members('workers'),
  ZkLayout.members('registries'),
  ZkLayout.schedulerElection,
  ZkLayout.registryElection,
];

/** Znode-safe form of a user-chosen name (job names may hold any character). */
function encodeName(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

/** The deterministic id of a job's fire at `fireTime` (invariant 1). */
export function fireTaskId(jobId: string, fireTime: number): string {
  return `${jobId}@${fireTime}`;
}
