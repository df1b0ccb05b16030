/** `--watch` on submit/trigger and `zks tasks watch`: follow a task, exit code from its outcome. */
import type { Command } from 'commander';
import { printJson, type CliContext } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { integerIn, parseWaitMs } from '../parsers';
import { watchTask } from '../task-watch';
import { watchLine } from '../views';

export interface WatchFlags {
  watch?: boolean;
  timeout?: number;
  interval?: number;
}

export function addWatchOptions(command: Command, withWatchFlag = true): Command {
  if (withWatchFlag) command.option('-w, --watch', 'follow the task until it finishes');
  return command
    .option('--timeout <seconds>', 'give up waiting after this long (also 30s, 2m)', parseWaitMs)
    .option('--interval <ms>', 'polling interval (default 250)', integerIn(50, 60_000));
}

export async function followTask(
  context: CliContext,
  taskId: string,
  options: WatchFlags,
): Promise<void> {
  const task = await watchTask(context.scheduler, taskId, {
    intervalMs: options.interval ?? 250,
    timeoutMs: options.timeout,
    onChange: (view) => {
      if (!context.json) context.out.line(watchLine(view));
    },
  });
  if (context.json) printJson(context, task);
  if (task.state === 'succeeded') return;
  const why = task.error ? `: ${task.error.message} (${task.error.code})` : '';
  throw new CliError(`task ${taskId} ${task.state}${why}`, ExitCode.failed);
}

/** Prints what was submitted, then follows the task when `--watch` asks for it. */
export async function afterSubmit(
  context: CliContext,
  taskId: string,
  options: WatchFlags,
  answer: unknown,
): Promise<void> {
  if (!options.watch) {
    if (context.json) return printJson(context, answer);
    context.out.line(`submitted task ${taskId}`);
    return;
  }
  if (!context.json) context.out.line(`submitted task ${taskId}`);
  await followTask(context, taskId, options);
}
