import { Injectable } from '@nestjs/common';
import { payloadObject, requiredNumber } from '../support/payload-fields';
import { TaskHandlerType } from '../task-handler-type.decorator';
import { HandlerAbortedError, type TaskContext, type TaskHandler } from '../task-handler';

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

  run({ ms }: SleepPayload, { signal }: TaskContext): Promise<SleepResult> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(new HandlerAbortedError(signal.reason));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new HandlerAbortedError(signal.reason));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve({ sleptMs: ms });
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
