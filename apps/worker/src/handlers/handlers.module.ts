import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HttpHandler } from './builtin/http.handler';
import { LogsCompressHandler } from './builtin/logs-compress.handler';
import { NoopHandler } from './builtin/noop.handler';
import { ShellHandler } from './builtin/shell.handler';
import { SleepHandler } from './builtin/sleep.handler';
import { HandlerRegistry } from './handler-registry';
import {
  HANDLERS_MODULE_OPTIONS,
  HTTP_HANDLER_OPTIONS,
  LOGS_COMPRESS_OPTIONS,
  SHELL_HANDLER_OPTIONS,
  type HandlersModuleOptions,
} from './handlers-options';
import type { TaskHandler } from './task-handler';

/**
 * The built-in handlers and the registry that finds every `@TaskHandlerType`
 * provider of the application (built-in or not). `shell` exists only when
 * `allowShell` is true.
 */
@Module({})
export class HandlersModule {
  static forRoot(options: HandlersModuleOptions): DynamicModule {
    const handlers: Type<TaskHandler>[] = [
      NoopHandler,
      SleepHandler,
      HttpHandler,
      LogsCompressHandler,
    ];
    if (options.allowShell) {
      handlers.push(ShellHandler);
    }
    return {
      module: HandlersModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: HANDLERS_MODULE_OPTIONS, useValue: options },
        { provide: HTTP_HANDLER_OPTIONS, useValue: options.http ?? {} },
        { provide: SHELL_HANDLER_OPTIONS, useValue: options.shell ?? {} },
        { provide: LOGS_COMPRESS_OPTIONS, useValue: options.logsCompress ?? {} },
        ...handlers,
        HandlerRegistry,
      ],
      exports: [HandlerRegistry],
    };
  }
}
