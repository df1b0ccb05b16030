import { isTerminal, type TaskRecord } from '@app/contracts';
import { holdersOf } from '@app/store';
import type { SchedulerTuning } from '../scheduler-tuning';

/** What the leader does next with a task, from its stored record alone. */
export type NextStep =
  /** Finished: nothing more to do; the leader forgets it. */
  | { kind: 'forget' }
  /** Waiting for a worker: assign it from `at` on. */
  | { kind: 'assign'; at: number }
  /** Some holders are not live workers (or nobody holds it): back to pending. */
  | { kind: 'reassign'; dead: string[] }
  /** On live workers: count it against them; fail the attempt at `deadline` if still there. */
  | { kind: 'watch'; holders: string[]; deadline: number | undefined };

/**
 * The one place that maps a task's stored state to the leader's next step
 * (docs/task-protocol.md, steps 2, 5, 6, 7). Pure, so it is tested alone.
 */
export function nextStep(
  record: TaskRecord,
  isLive: (workerId: string) => boolean,
  tuning: Pick<SchedulerTuning, 'fireLeadMs' | 'timeoutGraceMs'>,
  now: number,
): NextStep {
  if (isTerminal(record.state)) return { kind: 'forget' };
  switch (record.state) {
    case 'pending':
      // Tasks go to workers ahead of their instant, so they start on time.
      return { kind: 'assign', at: record.runAt - tuning.fireLeadMs };
    case 'retrying':
      return { kind: 'assign', at: record.retryAt ?? now };
    default: {
      const holders = holdersOf(record);
      const dead = holders.filter((worker) => !isLive(worker));
      if (holders.length === 0 || dead.length > 0) return { kind: 'reassign', dead };
      return { kind: 'watch', holders, deadline: deadlineOf(record, tuning.timeoutGraceMs) };
    }
  }
}

/** When the leader fails an attempt its worker never reported: its timeout after the later of assignment and runAt, plus grace. */
export function deadlineOf(record: TaskRecord, graceMs: number): number | undefined {
  if (record.timeoutMs === undefined) return undefined;
  const start = Math.max(record.assignedAt ?? record.createdAt, record.runAt);
  return start + record.timeoutMs + graceMs;
}
