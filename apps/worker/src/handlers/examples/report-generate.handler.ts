import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TaskHandlerType } from '../task-handler-type.decorator';
import { PayloadError, throwIfAborted, type TaskContext, type TaskHandler } from '../task-handler';

/** Where reports go; provided by ReportsModule.forRoot. */
export const REPORT_OUTPUT_DIRECTORY = Symbol('REPORT_OUTPUT_DIRECTORY');

export interface ReportPayload {
  title: string;
  values: number[];
}

export interface ReportResult {
  file: string;
  count: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * Example custom handler (see ../README.md): summarises numbers into a JSON
 * report file. The file is named after the task's idempotency key, so a
 * re-run of the same task (a retry, or a run on another worker after a crash)
 * overwrites the same file instead of adding a second report.
 */
@TaskHandlerType('report.generate')
@Injectable()
export class ReportGenerateHandler implements TaskHandler<ReportPayload, ReportResult> {
  readonly type = 'report.generate';

  constructor(@Inject(REPORT_OUTPUT_DIRECTORY) private readonly outputDirectory: string) {}

  parse(payload: unknown): ReportPayload {
    if (typeof payload !== 'object' || payload === null) {
      throw new PayloadError('', 'must be an object with title and values');
    }
    const { title, values } = payload as Record<string, unknown>;
    if (typeof title !== 'string' || title === '') {
      throw new PayloadError('title', 'must be a non-empty string');
    }
    if (!Array.isArray(values) || values.length === 0) {
      throw new PayloadError('values', 'must be a non-empty array of numbers');
    }
    values.forEach((value: unknown, index) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new PayloadError(`values[${index}]`, 'must be a finite number');
      }
    });
    return { title, values: values as number[] };
  }

  async run({ title, values }: ReportPayload, context: TaskContext): Promise<ReportResult> {
    const summary = {
      count: values.length,
      min: values.reduce((a, b) => Math.min(a, b)),
      max: values.reduce((a, b) => Math.max(a, b)),
      mean: values.reduce((sum, value) => sum + value, 0) / values.length,
    };
    // Stop before the side effect if the task was cancelled or timed out meanwhile.
    throwIfAborted(context.signal);

    const name = createHash('sha256').update(context.idempotencyKey).digest('hex').slice(0, 32);
    const file = path.join(this.outputDirectory, `report-${name}.json`);
    await mkdir(this.outputDirectory, { recursive: true });
    // Write then rename: readers never see half a report, and a rerun replaces it whole.
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ title, taskId: context.taskId, ...summary }));
    await rename(temporary, file);
    context.logger.info('report written', { file, attempt: context.attempt });
    return { file, ...summary };
  }
}
