import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The PATH every `shell` command runs with and bare command names are looked
 * up in: fixed here, never the worker's own PATH nor a task's, so neither a
 * deployment's environment nor a payload can redirect a name.
 */
export const SHELL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The absolute path `command` runs: a path is taken as given (made absolute),
 * a bare name is looked up in SHELL_PATH. Undefined when it is not an
 * executable regular file.
 */
export function resolveExecutable(command: string): string | undefined {
  const candidates = command.includes('/')
    ? [path.resolve(command)]
    : SHELL_PATH.split(':').map((directory) => path.join(directory, command));
  return candidates.find(isExecutableFile);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
