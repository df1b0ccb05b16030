import type { LogFields, TaskContext, TaskLogger } from '../../src/handlers';

export interface LogRecord {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields?: LogFields;
}

export interface TestTaskContext {
  context: TaskContext;
  controller: AbortController;
  logs: LogRecord[];
}

/** A TaskContext with a recording logger and an AbortController the test fires. */
export function taskContext(overrides: Partial<TaskContext> = {}): TestTaskContext {
  const controller = new AbortController();
  const logs: LogRecord[] = [];
  const logger: TaskLogger = {
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
  const context: TaskContext = {
    taskId: 'task-1',
    attempt: 1,
    idempotencyKey: 'key-1',
    signal: controller.signal,
    logger,
    ...overrides,
  };
  return { context, controller, logs };
}
