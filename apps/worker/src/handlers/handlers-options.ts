import type { HttpHandlerOptions } from './builtin/http.handler';
import type { LogsCompressOptions } from './builtin/logs-compress.handler';
import type { ShellHandlerOptions } from './builtin/shell.handler';

export interface HandlersModuleOptions {
  /** Registers the `shell` handler; without it no `shell` handler exists at all. */
  allowShell: boolean;
  shell?: ShellHandlerOptions;
  http?: HttpHandlerOptions;
  logsCompress?: LogsCompressOptions;
}

/** Injection tokens for the options of each built-in handler. */
export const HANDLERS_MODULE_OPTIONS = Symbol('HANDLERS_MODULE_OPTIONS');
export const HTTP_HANDLER_OPTIONS = Symbol('HTTP_HANDLER_OPTIONS');
export const SHELL_HANDLER_OPTIONS = Symbol('SHELL_HANDLER_OPTIONS');
export const LOGS_COMPRESS_OPTIONS = Symbol('LOGS_COMPRESS_OPTIONS');
