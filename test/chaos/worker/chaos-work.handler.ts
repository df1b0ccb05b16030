import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { type TaskContext, type TaskHandler } from '../../../apps/worker/src/handlers/task-handler';
import { TaskHandlerType } from '../../../apps/worker/src/handlers/task-handler-type.decorator';
import { abortableSleep } from '../../../apps/worker/src/handlers/support/abortable-sleep';
import type { ExecutionLogLine } from '../execution-log';

export interface ChaosWorkPayload {
  /** How long the work takes. */
  ms: number;
  /** Attempts 1..failAttempts fail (a seeded "random" failure the run can predict). */
  failAttempts: number;
}

/**
 * The chaos run's only handler: sleeps, fails when told to, and appends what
 * it did to this worker's own execution log (one JSON line per start and
 * end, written synchronously so that a `kill -9` loses nothing already
 * logged). The checks compare these logs with ZooKeeper and the audit.
 */
@TaskHandlerType('chaos.work')
@Injectable()
export class ChaosWorkHandler implements TaskHandler<ChaosWorkPayload, { sleptMs: number }> {
  readonly type = 'chaos.work';
  private readonly worker = process.env.MEMBER_ID ?? `pid-${process.pid}`;
  private readonly file = join(process.env.CHAOS_EXEC_LOG_DIR ?? '.', `${this.worker}.jsonl`);

  parse(payload: unknown): ChaosWorkPayload {
    const object = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
      string,
      unknown
    >;
    const ms = typeof object.ms === 'number' && object.ms >= 0 ? object.ms : 0;
    const failAttempts = typeof object.failAttempts === 'number' ? object.failAttempts : 0;
    return { ms, failAttempts };
  }

  async run(payload: ChaosWorkPayload, context: TaskContext): Promise<{ sleptMs: number }> {
    this.log(context, 'start');
    try {
      await abortableSleep(payload.ms, context.signal);
    } catch (error) {
      this.log(context, 'aborted');
      throw error;
    }
    if (context.attempt <= payload.failAttempts) {
      this.log(context, 'failed');
      throw new Error(`deliberate failure of attempt ${context.attempt}`);
    }
    this.log(context, 'succeeded');
    return { sleptMs: payload.ms };
  }

  private log(context: TaskContext, event: ExecutionLogLine['event']): void {
    const line: ExecutionLogLine = {
      event,
      taskId: context.taskId,
      attempt: context.attempt,
      worker: this.worker,
      pid: process.pid,
      at: Date.now(),
      ...(context.gang ? { gang: context.gang.index } : {}),
    };
    appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }
}
