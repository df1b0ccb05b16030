/** Human-readable renderings of the API's views (tables and key/value blocks). */
import type { JobView, TaskView } from '@app/contracts/dto/scheduler-api';
import type { AuditEventView, ClusterView } from '@app/contracts/dto/registry-api';
import { compactJson, keyValues, labels, orDash, table, time } from './output';

export function jobsTable(jobs: readonly JobView[]): string {
  return table(
    ['ID', 'NAME', 'TYPE', 'SCHEDULE', 'PAUSED', 'NEXT FIRE', 'LAST FIRE'],
    jobs.map((job) => [
      job.id,
      job.name,
      job.type,
      job.schedule ? `${job.schedule} (${job.timezone})` : `at ${time(job.runAt)}`,
      job.paused ? 'yes' : 'no',
      time(job.nextFireAt),
      time(job.lastFireAt),
    ]),
  );
}

export function jobDetail(job: JobView): string {
  return keyValues([
    ['id', job.id],
    ['name', job.name],
    ['type', job.type],
    ['payload', compactJson(job.payload, 200)],
    ['schedule', job.schedule ? `${job.schedule} (${job.timezone})` : '-'],
    ['run at', time(job.runAt)],
    ['paused', job.paused ? 'yes' : 'no'],
    ['next fire', time(job.nextFireAt)],
    ['last fire', time(job.lastFireAt)],
    ['retry', `at most ${job.retry.maxAttempts} attempt(s), backoff ${job.retry.backoffMs} ms`],
    ['timeout', job.timeoutMs === null ? '-' : `${job.timeoutMs} ms`],
    ['concurrency', job.concurrency],
    ['misfire', job.misfire],
    ['selector', labels(job.selector?.labels)],
    ['parallelism', String(job.parallelism)],
    ['created', time(job.createdAt)],
    ['updated', time(job.updatedAt)],
  ]);
}

export function tasksTable(tasks: readonly TaskView[]): string {
  return table(
    ['ID', 'TYPE', 'STATE', 'ATTEMPT', 'WORKER', 'CREATED', 'FINISHED'],
    tasks.map((task) => [
      task.id,
      task.type,
      task.state,
      String(task.attempt),
      orDash(task.workerId),
      time(task.createdAt),
      time(task.finishedAt),
    ]),
  );
}

export function taskDetail(task: TaskView): string {
  return keyValues([
    ['id', task.id],
    ['job', orDash(task.jobId)],
    ['type', task.type],
    ['payload', compactJson(task.payload, 200)],
    ['state', task.state],
    ['attempt', `${task.attempt} (${task.failures} failed, at most ${task.retry.maxAttempts})`],
    ['worker', task.workers.length > 1 ? task.workers.join(', ') : orDash(task.workerId)],
    ['run at', time(task.runAt)],
    ['created', time(task.createdAt)],
    ['assigned', time(task.assignedAt)],
    ['started', time(task.startedAt)],
    ['finished', time(task.finishedAt)],
    ['retry at', time(task.retryAt)],
    ['result', compactJson(task.result, 200)],
    ['error', task.error ? `${task.error.message} (${task.error.code})` : '-'],
  ]);
}

/** One line of `tasks watch`: time, state, and what is new about it. */
export function watchLine(task: TaskView): string {
  const parts = [new Date().toISOString().slice(11, 19), task.state.padEnd(9)];
  if (task.workerId)
    parts.push(`worker ${task.workers.length > 1 ? task.workers.join(',') : task.workerId}`);
  if (task.attempt > 0) parts.push(`attempt ${task.attempt}`);
  if (task.state === 'retrying') parts.push(`retry at ${time(task.retryAt)}`);
  if (task.result !== null && task.result !== undefined)
    parts.push(`result ${compactJson(task.result)}`);
  if (task.error) parts.push(`error ${task.error.message} (${task.error.code})`);
  return parts.join('  ');
}

export function auditTable(events: readonly AuditEventView[]): string {
  return table(
    ['SEQ', 'TIME', 'TYPE', 'TASK', 'JOB', 'WORKER', 'ATTEMPT', 'DETAIL'],
    events.map((event) => [
      event.seq,
      time(event.time),
      event.type,
      orDash(event.taskId),
      orDash(event.jobId),
      orDash(event.workerId),
      orDash(event.attempt),
      compactJson(event.detail, 60),
    ]),
  );
}

/** One event on one line, for `audit --follow` (a stream cannot align columns). */
export function auditLine(event: AuditEventView): string {
  const parts = [event.seq, time(event.time), event.type];
  if (event.taskId) parts.push(`task=${event.taskId}`);
  if (event.jobId && !event.taskId?.startsWith(`${event.jobId}@`)) parts.push(`job=${event.jobId}`);
  if (event.workerId) parts.push(`worker=${event.workerId}`);
  if (event.attempt !== null) parts.push(`attempt=${event.attempt}`);
  if (event.detail) parts.push(compactJson(event.detail, 120));
  return parts.join('  ');
}

export function clusterView(cluster: ClusterView): string {
  const leader = cluster.leader
    ? `${cluster.leader.id} (pid ${cluster.leader.pid}, ${cluster.leader.endpoint}) since ${time(cluster.leader.since)}${cluster.leader.inElection ? '' : ' (gone from the election, not replaced yet)'}`
    : 'none';
  const lines = [
    keyValues([
      ['leader', leader],
      ['drainer', orDash(cluster.drainer)],
      ...(cluster.stale
        ? ([
            ['stale', 'yes: the registry has lost ZooKeeper, this view may be out of date'],
          ] as const)
        : []),
    ]),
    '',
    `SCHEDULERS (${cluster.schedulers.length})`,
    table(
      ['ID', 'ENDPOINT', 'PID', 'LEADER', 'STARTED'],
      cluster.schedulers.map((s) => [
        s.id,
        s.endpoint,
        String(s.pid),
        s.leader ? 'yes' : '',
        time(s.startedAt),
      ]),
    ),
    '',
    `WORKERS (${cluster.workers.length})`,
    table(
      ['ID', 'ENDPOINT', 'PID', 'RUNNING', 'CAPACITY', 'LABELS', 'STATUS', 'STARTED'],
      cluster.workers.map((w) => [
        w.id,
        w.endpoint,
        String(w.pid),
        String(w.running),
        String(w.capacity),
        labels(w.labels),
        w.draining ? 'draining' : 'ready',
        time(w.startedAt),
      ]),
    ),
    '',
    `REGISTRIES (${cluster.registries.length})`,
    table(
      ['ID', 'ENDPOINT', 'PID', 'DRAINER', 'STARTED'],
      cluster.registries.map((r) => [
        r.id,
        r.endpoint,
        String(r.pid),
        r.drainer ? 'yes' : '',
        time(r.startedAt),
      ]),
    ),
  ];
  return lines.join('\n');
}
