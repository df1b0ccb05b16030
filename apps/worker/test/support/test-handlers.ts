import { Injectable } from '@nestjs/common';
import { EventQueue, timing } from '@app/zk/testing';
import { AppConfig } from '@app/common';
import {
  HandlerAbortedError,
  type TaskContext,
  type TaskHandler,
} from '../../src/handlers/task-handler';
import { TaskHandlerType } from '../../src/handlers/task-handler-type.decorator';
import { WorkerAbortReason } from '../../src/execution/abort-reason';

/** What the test handlers saw, in order; `reason` is the abort kind (or code). */
export type ProbeEvent =
  | {
      type: 'started';
      taskId: string;
      workerId: string;
      attempt: number;
      at: number;
      gang?: number;
    }
  | { type: 'aborted'; taskId: string; workerId: string; reason: string; at: number };

/** Shared by every worker application of the test process. */
export const probe = {
  events: new EventQueue<ProbeEvent>(),
  gates: new Map<string, () => void>(),
  /** Workers whose handler started, by task. */
  starts: new Map<string, Set<string>>(),
  reset(): void {
    this.events.drain();
    this.gates.clear();
    this.starts.clear();
  },
  /** Lets a `test.gate` task finish (once it has started). */
  release(taskId: string): void {
    const open = this.gates.get(taskId);
    if (!open) throw new Error(`task ${taskId} is not waiting at its gate`);
    open();
  },
  started(taskId: string, workerId?: string): Promise<ProbeEvent> {
    return this.events.nextMatching(
      (e) => e.type === 'started' && e.taskId === taskId && (!workerId || e.workerId === workerId),
      10_000,
      `start of ${taskId}`,
    );
  },
  aborted(taskId: string, workerId?: string): Promise<Extract<ProbeEvent, { type: 'aborted' }>> {
    return this.events.nextMatching(
      (e) => e.type === 'aborted' && e.taskId === taskId && (!workerId || e.workerId === workerId),
      10_000,
      `abort of ${taskId}`,
    ) as Promise<Extract<ProbeEvent, { type: 'aborted' }>>;
  },
};

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof WorkerAbortReason ? reason.kind : String(reason);
}

// Decorated so that its constructor's parameter types (AppConfig) are emitted for injection.
@Injectable()
abstract class ProbedHandler implements TaskHandler<Record<string, unknown>, unknown> {
  abstract readonly type: string;

  constructor(protected readonly config: AppConfig) {}

  parse(payload: unknown): Record<string, unknown> {
    return typeof payload === 'object' && payload !== null
      ? (payload as Record<string, unknown>)
      : {};
  }

  abstract run(payload: Record<string, unknown>, context: TaskContext): Promise<unknown>;

  protected started(context: TaskContext): void {
    const started = probe.starts.get(context.taskId) ?? new Set<string>();
    probe.starts.set(context.taskId, started.add(this.config.memberId));
    probe.events.push({
      type: 'started',
      taskId: context.taskId,
      workerId: this.config.memberId,
      attempt: context.attempt,
      at: Date.now(),
      ...(context.gang ? { gang: context.gang.index } : {}),
    });
  }

  /** Rejects (and reports) when the task's signal fires. */
  protected untilAborted(context: TaskContext): Promise<never> {
    return new Promise((_, reject) => {
      const onAbort = (): void => {
        probe.events.push({
          type: 'aborted',
          taskId: context.taskId,
          workerId: this.config.memberId,
          reason: reasonOf(context.signal),
          at: Date.now(),
        });
        reject(new HandlerAbortedError(context.signal.reason));
      };
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Always fails. */
@TaskHandlerType('test.fail')
@Injectable()
export class FailHandler extends ProbedHandler {
  readonly type = 'test.fail';

  run(_payload: Record<string, unknown>, context: TaskContext): Promise<never> {
    this.started(context);
    return Promise.reject(new Error('deliberate failure'));
  }
}

/** Runs until aborted. */
@TaskHandlerType('test.hang')
@Injectable()
export class HangHandler extends ProbedHandler {
  readonly type = 'test.hang';

  run(_payload: Record<string, unknown>, context: TaskContext): Promise<never> {
    this.started(context);
    return this.untilAborted(context);
  }
}

/** Succeeds with `{ done: true }` when the test releases it; fails if aborted first. */
@TaskHandlerType('test.gate')
@Injectable()
export class GateHandler extends ProbedHandler {
  readonly type = 'test.gate';

  run(_payload: Record<string, unknown>, context: TaskContext): Promise<unknown> {
    const released = new Promise((resolve) =>
      probe.gates.set(context.taskId, () => resolve({ done: true })),
    );
    this.started(context);
    return Promise.race([released, this.untilAborted(context)]);
  }
}

/** Succeeds at once with the instant it started. */
@TaskHandlerType('test.clock')
@Injectable()
export class ClockHandler extends ProbedHandler {
  readonly type = 'test.clock';

  run(payload: Record<string, unknown>, context: TaskContext): Promise<unknown> {
    this.started(context);
    const pad = typeof payload.pad === 'number' ? 'x'.repeat(payload.pad) : undefined;
    return Promise.resolve(pad === undefined ? { at: Date.now() } : { at: Date.now(), pad });
  }
}

/**
 * A gang member: the one at `failIndex` fails once all run, the others run
 * until aborted; with `holdIndex` instead, that one runs until aborted and the
 * others succeed at once.
 */
@TaskHandlerType('test.gang')
@Injectable()
export class GangHandler extends ProbedHandler {
  readonly type = 'test.gang';

  run(payload: Record<string, unknown>, context: TaskContext): Promise<unknown> {
    this.started(context);
    if (payload.holdIndex !== undefined && payload.holdIndex === context.gang?.index) {
      return this.untilAborted(context);
    }
    if (payload.failIndex === undefined) return Promise.resolve({ member: context.gang?.index });
    if (payload.failIndex === context.gang?.index) {
      // Fails once every member runs, so that the others are aborted while running.
      return timing
        .waitFor(() => probe.starts.get(context.taskId)?.size === context.gang?.size, {
          intervalMs: 5,
        })
        .then(() => Promise.reject(new Error(`member ${context.gang?.index} fails`)));
    }
    return this.untilAborted(context);
  }
}

export const TEST_HANDLERS = [FailHandler, HangHandler, GateHandler, ClockHandler, GangHandler];
