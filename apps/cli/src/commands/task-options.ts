/**
 * Options that jobs and one-off tasks share (what a task runs and how):
 * `--type`, `--payload`, retries, timeout, selector labels, gang size.
 */
import type { Command } from 'commander';
import type { SubmitTaskBody } from '@app/contracts/dto/scheduler-api';
import { collectLabel, integerIn, parseJsonValue } from '../parsers';

export interface TaskTemplateOptions {
  type?: string;
  payload?: unknown;
  maxAttempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  label?: Record<string, string>;
  parallelism?: number;
}

type TemplateBody = Pick<
  SubmitTaskBody,
  'type' | 'payload' | 'retry' | 'timeoutMs' | 'selector' | 'parallelism'
>;

export function addTaskTemplateOptions(command: Command): Command {
  return command
    .option(
      '--payload <json>',
      'handler input as JSON, or @file to read it from a file',
      parseJsonValue,
    )
    .option(
      '--max-attempts <n>',
      'attempts before the task fails for good',
      integerIn(1, 1_000_000),
    )
    .option(
      '--backoff-ms <ms>',
      'delay before the 2nd attempt, doubling after',
      integerIn(0, 2 ** 31),
    )
    .option('--timeout-ms <ms>', 'abort an attempt after this long', integerIn(1, 2 ** 31))
    .option('--label <key=value>', 'run only on workers with this label (repeatable)', collectLabel)
    .option(
      '--parallelism <n>',
      'gang size: run on this many workers at once',
      integerIn(1, 1_000),
    );
}

/** The request fields of the given options (absent ones left out: the server's defaults apply). */
export function templateBody(options: TaskTemplateOptions): Partial<TemplateBody> {
  const body: Partial<TemplateBody> = {};
  if (options.type !== undefined) body.type = options.type;
  if (options.payload !== undefined) body.payload = options.payload;
  if (options.maxAttempts !== undefined || options.backoffMs !== undefined) {
    body.retry = { maxAttempts: options.maxAttempts ?? 1, backoffMs: options.backoffMs };
  }
  if (options.timeoutMs !== undefined) body.timeoutMs = options.timeoutMs;
  if (options.label !== undefined) body.selector = { labels: options.label };
  if (options.parallelism !== undefined) body.parallelism = options.parallelism;
  return body;
}
