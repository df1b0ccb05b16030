/**
 * What the history of a cron job must show after a leader was killed: every
 * instant fired once (the fire's task id is `<jobId>@<instant>`, so a second
 * leader re-firing an instant would have been refused by ZooKeeper, and a
 * lost instant would leave a gap), and one `task.created` event per fire in
 * the audit history. Pure: unit-tested in fire-checks.test.ts.
 */
import { fireTaskId } from '@app/contracts';

export interface FiredTask {
  id: string;
  fireTime: string | null;
}

export interface CreatedEvent {
  taskId: string | null;
  /** `<service>/<member id>/<pid>`. */
  actor: string;
}

export interface FireCheck {
  /** Instants fired, ascending. */
  instants: number[];
  /** task.created events per member that wrote them (the leader of the time). */
  createdBy: Map<string, number>;
  problems: string[];
}

export function checkFires(
  jobId: string,
  periodMs: number,
  tasks: readonly FiredTask[],
  created: readonly CreatedEvent[],
): FireCheck {
  const problems: string[] = [];
  const instants: number[] = [];
  for (const task of tasks) {
    const instant = task.fireTime === null ? NaN : Date.parse(task.fireTime);
    if (Number.isNaN(instant)) {
      problems.push(`task ${task.id} has no fire time`);
      continue;
    }
    if (task.id !== fireTaskId(jobId, instant)) {
      problems.push(
        `task ${task.id} is not named after its instant (${fireTaskId(jobId, instant)})`,
      );
    }
    instants.push(instant);
  }
  instants.sort((a, b) => a - b);
  for (let i = 1; i < instants.length; i++) {
    const gap = instants[i] - instants[i - 1];
    if (gap === 0) problems.push(`instant ${iso(instants[i])} fired twice`);
    else if (gap !== periodMs) {
      problems.push(`${gap / periodMs - 1} instant(s) missing after ${iso(instants[i - 1])}`);
    }
  }

  const taskIds = new Set(tasks.map((task) => task.id));
  const createdPerTask = new Map<string, number>();
  const createdBy = new Map<string, number>();
  for (const event of created) {
    const taskId = event.taskId ?? '(none)';
    createdPerTask.set(taskId, (createdPerTask.get(taskId) ?? 0) + 1);
    const member = event.actor.split('/')[1] ?? event.actor;
    createdBy.set(member, (createdBy.get(member) ?? 0) + 1);
    if (!taskIds.has(taskId))
      problems.push(`task.created for ${taskId}, which is not a task of the job`);
  }
  for (const id of taskIds) {
    const count = createdPerTask.get(id) ?? 0;
    if (count !== 1) problems.push(`task ${id} has ${count} task.created events in the history`);
  }
  return { instants, createdBy, problems };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
