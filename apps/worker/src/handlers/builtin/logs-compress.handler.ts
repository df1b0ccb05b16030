import { Inject, Injectable, Optional } from '@nestjs/common';
import { constants as zlibConstants } from 'node:zlib';
import { constants as fsConstants } from 'node:fs';
import { open, readdir, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Minimatch, braceExpand } from 'minimatch';
import { LOGS_COMPRESS_OPTIONS } from '../handlers-options';
import { hasParentSegment, realPathInside } from '../support/contained-path';
import { gzipFile, PARTIAL_SUFFIX } from '../support/gzip-file';
import {
  optionalBoolean,
  optionalString,
  payloadObject,
  requiredNumber,
  requiredString,
} from '../support/payload-fields';
import { TaskHandlerType } from '../task-handler-type.decorator';
import {
  HandlerAbortedError,
  PayloadError,
  throwIfAborted,
  type TaskContext,
  type TaskHandler,
} from '../task-handler';

export interface LogsCompressOptions {
  /**
   * Directories that tasks may compress in (a task's directory must be one of
   * them or below, compared by real path). Default none: every task is
   * refused until the deployment names its log folders.
   */
  roots?: string[];
  /** gzip level 1 (fast) … 9 (small), 0 stores. Default zlib's (6), like gzip. */
  level?: number;
}

export interface LogsCompressPayload {
  directory: string;
  olderThanMinutes: number;
  pattern: string;
  recursive: boolean;
}

export interface LogsCompressResult {
  filesCompressed: number;
  bytesBefore: number;
  bytesAfter: number;
  bytesSaved: number;
  /** Files matching the pattern left alone: too recent, already .gz, symlinks, not regular, changed meanwhile. */
  skipped: number;
}

export const DEFAULT_LOG_PATTERN = '*.log';
const MAX_MINUTES = 100 * 365 * 24 * 60;
const MAX_PATTERN_LENGTH = 256;
/** `{a,b}{c,d}…` multiplies: a pattern is at most this many globs once its braces are expanded. */
const MAX_BRACE_EXPANSION = 64;
const FAILURES_IN_MESSAGE = 5;

/**
 * The classic cluster chore: gzip the log files of a directory that have not
 * changed for N minutes. Safe to re-run after a crash (see gzipFile); file
 * names are matched with minimatch (shell-like: `*` does not match a leading
 * dot). A file that fails does not stop the others; the task then fails
 * naming them, and a retry finishes the rest.
 */
@TaskHandlerType('logs.compress')
@Injectable()
export class LogsCompressHandler implements TaskHandler<LogsCompressPayload, LogsCompressResult> {
  readonly type = 'logs.compress';
  private readonly roots: readonly string[];
  private readonly level: number;

  constructor(@Optional() @Inject(LOGS_COMPRESS_OPTIONS) options: LogsCompressOptions = {}) {
    for (const root of options.roots ?? []) {
      if (!path.isAbsolute(root)) {
        throw new Error(`logs.compress roots must be absolute paths, got ${root}`);
      }
    }
    const level = options.level ?? zlibConstants.Z_DEFAULT_COMPRESSION;
    if (!Number.isInteger(level) || level < -1 || level > 9) {
      throw new Error(`logs.compress level must be an integer from 0 to 9, got ${level}`);
    }
    this.roots = options.roots ?? [];
    this.level = level;
  }

  parse(payload: unknown): LogsCompressPayload {
    const object = payloadObject(payload, [
      'directory',
      'olderThanMinutes',
      'pattern',
      'recursive',
    ]);
    const directory = requiredString(object, 'directory');
    if (!path.isAbsolute(directory)) {
      throw new PayloadError('directory', `must be an absolute path, got ${directory}`);
    }
    if (hasParentSegment(directory)) {
      throw new PayloadError('directory', `must not contain '..', got ${directory}`);
    }
    const olderThanMinutes = requiredNumber(object, 'olderThanMinutes', {
      min: 0,
      max: MAX_MINUTES,
    });
    const pattern = optionalString(object, 'pattern') ?? DEFAULT_LOG_PATTERN;
    if (pattern.includes('/') || pattern.length > MAX_PATTERN_LENGTH) {
      throw new PayloadError(
        'pattern',
        `must be a file-name glob without '/' of at most ${MAX_PATTERN_LENGTH} characters`,
      );
    }
    // Expanded with a bound one past the limit: the work stays small, whatever the pattern.
    if (
      braceExpand(pattern, { braceExpandMax: MAX_BRACE_EXPANSION + 1 }).length > MAX_BRACE_EXPANSION
    ) {
      throw new PayloadError(
        'pattern',
        `expands to more than ${MAX_BRACE_EXPANSION} globs ({…,…} alternatives multiply)`,
      );
    }
    return {
      directory: path.normalize(directory),
      olderThanMinutes,
      pattern,
      recursive: optionalBoolean(object, 'recursive') ?? false,
    };
  }

  async run(payload: LogsCompressPayload, context: TaskContext): Promise<LogsCompressResult> {
    const { signal, logger } = context;
    throwIfAborted(signal);
    const directory = await this.resolveDirectory(payload.directory);
    const matcher = new Minimatch(payload.pattern, { braceExpandMax: MAX_BRACE_EXPANSION });
    const cutoffMs = Date.now() - payload.olderThanMinutes * 60_000;
    const totals = { filesCompressed: 0, bytesBefore: 0, bytesAfter: 0, skipped: 0 };
    const failures: string[] = [];

    const top = await this.openDirectory(directory);
    for await (const entry of walk(top, directory, payload.recursive)) {
      if ('refused' in entry) {
        failures.push(`${entry.path}: ${entry.refused}`);
        continue;
      }
      if (!matcher.match(entry.name)) {
        continue;
      }
      throwIfAborted(signal);
      if (!entry.regular || entry.name.endsWith('.gz') || entry.name.endsWith(PARTIAL_SUFFIX)) {
        totals.skipped += 1;
        continue;
      }
      try {
        const outcome = await gzipFile(entry.pinned, cutoffMs, this.level, signal);
        if (outcome.kind === 'compressed') {
          totals.filesCompressed += 1;
          totals.bytesBefore += outcome.bytesBefore;
          totals.bytesAfter += outcome.bytesAfter;
        } else {
          totals.skipped += 1;
          if (outcome.reason === 'modified') {
            logger.warn('log file changed while compressing; left as is', { file: entry.path });
          }
        }
      } catch (error: unknown) {
        if (signal.aborted) {
          throw new HandlerAbortedError(signal.reason);
        }
        failures.push(`${entry.path}: ${(error as Error).message}`);
      }
    }

    const result = { ...totals, bytesSaved: totals.bytesBefore - totals.bytesAfter };
    logger.info('logs compressed', { directory, ...result, failed: failures.length });
    if (failures.length > 0) {
      throw new Error(
        `logs.compress: ${failures.length} file(s) failed (${result.filesCompressed} compressed): ` +
          failures.slice(0, FAILURES_IN_MESSAGE).join('; '),
      );
    }
    return result;
  }

  /** The directory's real path, refused when it is not a directory or lies outside the roots. */
  private async resolveDirectory(directory: string): Promise<string> {
    if (this.roots.length === 0) {
      throw new PayloadError(
        'directory',
        'cannot be used: this worker allows logs.compress in no folder (WORKER_LOGS_ROOTS is unset)',
      );
    }
    let real: string | undefined;
    try {
      real = await realPathInside(directory, this.roots);
    } catch (error: unknown) {
      throw new PayloadError('directory', `cannot be used: ${(error as Error).message}`);
    }
    if (real === undefined) {
      throw new PayloadError(
        'directory',
        `${directory} is outside the allowed roots (${this.roots.join(', ')})`,
      );
    }
    return real;
  }

  /**
   * Opens the directory itself (O_NOFOLLOW), then checks that what was opened
   * is still inside the roots: a path swapped between resolveDirectory and
   * here is caught, and everything below is reached through this descriptor.
   */
  private async openDirectory(real: string): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(real, DIRECTORY_NO_FOLLOW);
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOTDIR' ? 'is not a directory' : `cannot be used: ${code}`;
      throw new PayloadError('directory', `${reason}: ${real}`);
    }
    const opened = await realpath(pinnedPath(handle));
    if ((await realPathInside(opened, this.roots)) === undefined) {
      await handle.close();
      throw new PayloadError('directory', `${real} moved outside the allowed roots`);
    }
    return handle;
  }
}

const DIRECTORY_NO_FOLLOW = fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW;

/**
 * A path through an open directory descriptor (Linux's /proc/self/fd): the
 * kernel resolves it from the directory we hold, whatever happens meanwhile
 * to the names above it, like openat(2).
 */
function pinnedPath(directory: FileHandle, name?: string): string {
  return name === undefined
    ? `/proc/self/fd/${directory.fd}`
    : `/proc/self/fd/${directory.fd}/${name}`;
}

type WalkEntry =
  | {
      /** For messages: the path as the task named it. */
      path: string;
      /** For file operations: through the open descriptor of its directory. */
      pinned: string;
      name: string;
      /** A regular file (symlinks, sockets, FIFOs are not; symlinks are never followed). */
      regular: boolean;
    }
  | { path: string; refused: string };

/**
 * Files of a directory (and its subdirectories when recursive), walked by
 * directory descriptors: each subdirectory is opened with O_NOFOLLOW through
 * its parent's descriptor, so a directory swapped for a symlink mid-walk is
 * refused (ELOOP), never followed. Each directory is listed before any of its
 * files is touched, so the .gz files we create are not listed back. Closes
 * `directory` when done.
 */
async function* walk(
  directory: FileHandle,
  shown: string,
  recursive: boolean,
): AsyncGenerator<WalkEntry> {
  try {
    const entries = await readdir(pinnedPath(directory), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirectories: string[] = [];
    for (const dirent of entries) {
      if (dirent.isDirectory()) {
        if (recursive) subdirectories.push(dirent.name);
        continue;
      }
      yield {
        path: path.join(shown, dirent.name),
        pinned: pinnedPath(directory, dirent.name),
        name: dirent.name,
        regular: dirent.isFile(),
      };
    }
    for (const name of subdirectories) {
      let child: FileHandle;
      try {
        child = await open(pinnedPath(directory, name), DIRECTORY_NO_FOLLOW);
      } catch (error: unknown) {
        const code = (error as NodeJS.ErrnoException).code;
        yield {
          path: path.join(shown, name),
          refused:
            code === 'ELOOP' || code === 'ENOTDIR'
              ? 'no longer a directory (replaced by a symlink or a file while walking); not followed'
              : `cannot be opened (${code})`,
        };
        continue;
      }
      yield* walk(child, path.join(shown, name), recursive);
    }
  } finally {
    await directory.close();
  }
}
