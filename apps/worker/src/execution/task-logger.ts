import type { Logger } from '@nestjs/common';
import type { LogFields, TaskLogger } from '../handlers/task-handler';

/** The logger a handler gets: every line carries the task id, attempt and type. */
export class BoundTaskLogger implements TaskLogger {
  constructor(
    private readonly logger: Logger,
    private readonly fields: LogFields,
  ) {}

  info(message: string, fields?: LogFields): void {
    this.logger.log({ msg: message, ...this.fields, ...fields });
  }

  warn(message: string, fields?: LogFields): void {
    this.logger.warn({ msg: message, ...this.fields, ...fields });
  }

  error(message: string, fields?: LogFields): void {
    this.logger.error({ msg: message, ...this.fields, ...fields });
  }
}
