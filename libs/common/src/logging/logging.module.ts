import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import { LoggerModule, type Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';
import { AppConfig } from '../config/app-config';

/** Probes and scrapes arrive every few seconds; logging each would drown the rest. */
const QUIET_PATHS = /^\/(health|metrics)(\/|\?|$)/;

export function loggerParams(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      // memberId on every line: the worker id of a worker's lines, the actor of its audit events.
      base: {
        service: config.service,
        memberId: config.memberId,
        pid: process.pid,
        hostname: hostname(),
      },
      timestamp: stdTimeFunctions.isoTime,
      // Bearer tokens (API_TOKEN) and cookies never reach the log.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
        error !== undefined || res.statusCode >= 500
          ? 'error'
          : res.statusCode >= 400
            ? 'warn'
            : config.logRequests === 'all'
              ? 'info'
              : 'silent',
    },
  };
}

/**
 * Structured JSON logs on stdout (pino), one line per event, with the service
 * name, member id and pid on every line; Nest's own logger is routed there by
 * bootstrapService (`app.useLogger(app.get(Logger))`).
 */
@Module({
  imports: [LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: loggerParams })],
})
export class LoggingModule {}
