import { Injectable } from '@nestjs/common';
import { TaskHandlerType } from '../task-handler-type.decorator';
import type { TaskContext, TaskHandler } from '../task-handler';

export type NoopResult = Record<string, never>;

/**
 * Does nothing and succeeds: the throughput benchmark's task, so it neither
 * validates, logs nor allocates beyond its result.
 */
@TaskHandlerType('noop')
@Injectable()
export class NoopHandler implements TaskHandler<unknown, NoopResult> {
  readonly type = 'noop';

  parse(payload: unknown): unknown {
    return payload;
  }

  run(_payload: unknown, _context: TaskContext): Promise<NoopResult> {
    return Promise.resolve({});
  }
}
