/**
 * Follows a task until it reaches a terminal state by polling
 * `GET /v1/tasks/:id` (which answers from the history once the task has left
 * ZooKeeper, so a finished task is always found). Polling rather than the
 * registry's event stream: it needs only the scheduler, and it sees a state
 * as soon as ZooKeeper has it, not after the audit drain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskView } from '@app/contracts/dto/scheduler-api';
import { CliError, ExitCode } from './exit-codes';
import type { ApiClient } from './api-client';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export interface WatchOptions {
  intervalMs: number;
  /** Give up after this long (exit code 1); undefined: wait as long as it takes. */
  timeoutMs?: number;
  /** Called with the first view and with each one that differs in state, attempt or worker. */
  onChange(task: TaskView): void;
}

export async function watchTask(
  scheduler: ApiClient,
  id: string,
  options: WatchOptions,
): Promise<TaskView> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const task = await scheduler.get<TaskView>(`/v1/tasks/${encodeURIComponent(id)}`);
    const key = `${task.state}/${task.attempt}/${task.workerId ?? ''}`;
    if (key !== last) {
      last = key;
      options.onChange(task);
    }
    if (TERMINAL.has(task.state)) return task;
    if (Date.now() + options.intervalMs > deadline) {
      throw new CliError(
        `gave up waiting after ${(options.timeoutMs ?? 0) / 1000} s: task ${id} is ${task.state}`,
        ExitCode.failed,
      );
    }
    await sleep(options.intervalMs);
  }
}
