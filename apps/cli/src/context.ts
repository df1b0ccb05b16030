/**
 * What every command needs, built from the global options: a client of the
 * scheduler and of the registry, the output mode and where to print.
 */
import type { Command } from 'commander';
import { ApiClient } from './api-client';
import { consoleOutput, type Output } from './output';

export interface GlobalOptions {
  url: string;
  registryUrl: string;
  token?: string;
  json: boolean;
}

export interface CliContext {
  scheduler: ApiClient;
  registry: ApiClient;
  json: boolean;
  out: Output;
}

export function contextOf(command: Command, out: Output = consoleOutput): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const token = options.token?.trim() || undefined;
  return {
    scheduler: new ApiClient({ service: 'scheduler', baseUrl: options.url, token }),
    registry: new ApiClient({ service: 'registry', baseUrl: options.registryUrl, token }),
    json: options.json === true,
    out,
  };
}

/** `--json`: the value as the server sent it, pretty-printed. */
export function printJson(context: CliContext, value: unknown): void {
  context.out.line(JSON.stringify(value, null, 2));
}
