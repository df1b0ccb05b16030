import { Injectable } from '@nestjs/common';
import { abortableSleep } from '../support/abortable-sleep';
import { payloadObject, requiredNumber } from '../support/payload-fields';
import { TaskHandlerType } from '../task-handler-type.decorator';
import type { TaskContext, TaskHandler } from '../task-handler';

export interface SleepPayload {
  ms: number;
}

export interface SleepResult {
  sleptMs: number;
}

export const MAX_SLEEP_MS = 24 * 60 * 60 * 1000;

/** Waits `ms` milliseconds; stops at once when the task's signal fires. */
@TaskHandlerType('sleep')
@Injectable()
export class SleepHandler implements TaskHandler<SleepPayload, SleepResult> {
  readonly type = 'sleep';

  parse(payload: unknown): SleepPayload {
    const object = payloadObject(payload, ['ms']);
    return { ms: requiredNumber(object, 'ms', { min: 0, max: MAX_SLEEP_MS }) };
  }

  async run({ ms }: SleepPayload, { signal }: TaskContext): Promise<SleepResult> {
    await abortableSleep(ms, signal);
    return { sleptMs: ms };
  }
}
