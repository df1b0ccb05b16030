import { Logger } from '@nestjs/common';
import type { StructuredLogger } from '../client/logger';

/** A Nest Logger (JSON lines through pino) as a StructuredLogger: `{ msg, ...context }`. */
export function structuredLogger(logger: Logger | string): StructuredLogger {
  const nest = typeof logger === 'string' ? new Logger(logger) : logger;
  return {
    log: (msg, context) => nest.log({ msg, ...context }),
    warn: (msg, context) => nest.warn({ msg, ...context }),
    error: (msg, context) => nest.error({ msg, ...context }),
  };
}
