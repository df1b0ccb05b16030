import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { timing } from '@app/zk/testing';
import {
  HandlerAbortedError,
  LogsCompressHandler,
  PayloadError,
  TaskAbortReason,
  type LogsCompressOptions,
} from '../../src/handlers';
import { taskContext } from './task-context';

const TWO_HOURS_AGO = new Date(Date.now() - 2 * 60 * 60 * 1000);

async function writeOld(file: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await utimes(file, TWO_HOURS_AGO, TWO_HOURS_AGO);
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

describe('logs.compress handler', () => {
  let directory: string;
  const content = 'GET /index.html 200\n'.repeat(500);

  beforeEach(async () => {
    directory = await realpath(await mkdtemp(path.join(os.tmpdir(), 'logs-compress-')));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function run(payload: unknown, options: LogsCompressOptions = { roots: [directory] }) {
    const handler = new LogsCompressHandler(options);
    return handler.run(handler.parse(payload), taskContext().context);
  }

  it('gzips old matching files, keeps recent ones, and the content round-trips', async () => {
    const logs = path.join(directory, 'logs');
    await writeOld(path.join(logs, 'old.log'), content);
    await writeOld(path.join(logs, 'other.txt'), content);
    await writeOld(path.join(logs, 'nested', 'deep.log'), content);
    await writeFile(path.join(logs, 'new.log'), content);
    await writeOld(path.join(directory, 'outside.log'), content);
    await symlink(path.join(directory, 'outside.log'), path.join(logs, 'link.log'));

    const result = await run({ directory: logs, olderThanMinutes: 60 });

    const gz = await readFile(path.join(logs, 'old.log.gz'));
    expect(gunzipSync(gz).toString()).toBe(content);
    expect(result).toEqual({
      filesCompressed: 1,
      bytesBefore: content.length,
      bytesAfter: gz.length,
      bytesSaved: content.length - gz.length,
      skipped: 2, // new.log (recent) and link.log (symlink)
    });
    expect(result.bytesSaved).toBeGreaterThan(0);
    expect(await exists(path.join(logs, 'old.log'))).toBe(false);
    // mtime kept, as gzip does
    expect(Math.round((await stat(path.join(logs, 'old.log.gz'))).mtimeMs)).toBe(
      TWO_HOURS_AGO.getTime(),
    );
    // not recursive, other pattern, recent, and the symlink and its target untouched
    expect((await readdir(logs)).sort()).toEqual([
      'link.log',
      'nested',
      'new.log',
      'old.log.gz',
      'other.txt',
    ]);
    expect(await readdir(path.join(logs, 'nested'))).toEqual(['deep.log']);
    expect((await lstat(path.join(logs, 'link.log'))).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(directory, 'outside.log'), 'utf8')).toBe(content);
  });

  it('descends into subdirectories when recursive, never through symlinked ones', async () => {
    const logs = path.join(directory, 'logs');
    await writeOld(path.join(logs, 'a.log'), content);
    await writeOld(path.join(logs, 'x', 'b.log'), content);
    await writeOld(path.join(logs, 'x', 'y', 'c.log'), content);
    await writeOld(path.join(directory, 'elsewhere', 'd.log'), content);
    await symlink(path.join(directory, 'elsewhere'), path.join(logs, 'linked-dir'));

    const result = await run({ directory: logs, olderThanMinutes: 60, recursive: true });

    expect(result).toMatchObject({ filesCompressed: 3, skipped: 0 });
    for (const file of ['a.log', 'x/b.log', 'x/y/c.log']) {
      expect(gunzipSync(await readFile(path.join(logs, `${file}.gz`))).toString()).toBe(content);
    }
    expect(await readdir(path.join(directory, 'elsewhere'))).toEqual(['d.log']);
  });

  it('matches the pattern on file names and skips files already gzipped', async () => {
    await writeOld(path.join(directory, 'app.txt'), content);
    await writeOld(path.join(directory, 'app.log'), content);
    await writeOld(path.join(directory, 'done.log.gz'), gzipSync(content));

    await expect(
      run({ directory, olderThanMinutes: 60, pattern: 'app.t?t' }),
    ).resolves.toMatchObject({
      filesCompressed: 1,
      skipped: 0,
    });
    expect(await exists(path.join(directory, 'app.txt.gz'))).toBe(true);
    expect(await exists(path.join(directory, 'app.log'))).toBe(true);

    // '*' also matches the .gz files, which are counted as skipped.
    await expect(run({ directory, olderThanMinutes: 60, pattern: '*' })).resolves.toMatchObject({
      filesCompressed: 1,
      skipped: 2,
    });
    expect((await readdir(directory)).sort()).toEqual(['app.log.gz', 'app.txt.gz', 'done.log.gz']);
  });

  it('is idempotent: a re-run after a crash replaces leftover partial output, a second run does nothing', async () => {
    const file = path.join(directory, 'crashed.log');
    await writeOld(file, content);
    const full = gzipSync(content);
    // A crash mid-write left a truncated .gz and a partial file next to the original.
    await writeFile(`${file}.gz`, full.subarray(0, full.length >> 1));
    await writeFile(`${file}.gz.partial`, 'garbage');

    await expect(run({ directory, olderThanMinutes: 60 })).resolves.toMatchObject({
      filesCompressed: 1,
    });
    expect(gunzipSync(await readFile(`${file}.gz`)).toString()).toBe(content);
    expect(await readdir(directory)).toEqual(['crashed.log.gz']);

    await expect(run({ directory, olderThanMinutes: 60 })).resolves.toEqual({
      filesCompressed: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      bytesSaved: 0,
      skipped: 0,
    });
  });

  it('refuses directories outside the roots, through symlinks too', async () => {
    const root = path.join(directory, 'root');
    await mkdir(root);
    await mkdir(path.join(directory, 'private'));
    await symlink(path.join(directory, 'private'), path.join(root, 'sneaky'));

    await expect(
      run({ directory: path.join(directory, 'private'), olderThanMinutes: 1 }, { roots: [root] }),
    ).rejects.toThrow(
      `payload.directory ${path.join(directory, 'private')} is outside the allowed roots (${root})`,
    );
    await expect(
      run({ directory: path.join(root, 'sneaky'), olderThanMinutes: 1 }, { roots: [root] }),
    ).rejects.toThrow(PayloadError);
    await expect(
      run({ directory: root, olderThanMinutes: 1 }, { roots: [root] }),
    ).resolves.toMatchObject({
      filesCompressed: 0,
    });
    await expect(
      run({ directory: path.join(directory, 'missing'), olderThanMinutes: 1 }),
    ).rejects.toThrow(/^payload\.directory cannot be used: ENOENT/);
  });

  it('refuses every folder when no root is configured, touching nothing', async () => {
    const file = path.join(directory, 'app.log');
    await writeOld(file, content);
    await expect(run({ directory, olderThanMinutes: 60 }, {})).rejects.toThrow(
      'payload.directory cannot be used: this worker allows logs.compress in no folder (WORKER_LOGS_ROOTS is unset)',
    );
    expect(await readdir(directory)).toEqual(['app.log']);
    expect((await stat(file)).mtime).toEqual(TWO_HOURS_AGO);
  });

  it('refuses a directory swapped for a symlink mid-walk, touching nothing outside', async () => {
    const root = path.join(directory, 'root');
    const outside = path.join(directory, 'outside');
    await writeOld(path.join(outside, 'secret.log'), content);
    await writeOld(path.join(root, 'sub', 'app.log'), content);
    // A large sparse file in the root: compressing it holds the walk before it enters sub/.
    const slow = path.join(root, 'a-big.log');
    await writeFile(slow, '');
    await truncate(slow, 64 * 1024 * 1024);
    await utimes(slow, TWO_HOURS_AGO, TWO_HOURS_AGO);

    const handler = new LogsCompressHandler({ roots: [root] });
    const running = handler.run(
      handler.parse({ directory: root, olderThanMinutes: 60, recursive: true }),
      taskContext().context,
    );
    await timing.waitFor(() => exists(`${slow}.gz.partial`), { intervalMs: 1 });
    await rm(path.join(root, 'sub'), { recursive: true });
    await symlink(outside, path.join(root, 'sub'));

    await expect(running).rejects.toThrow(
      `${path.join(root, 'sub')}: no longer a directory (replaced by a symlink or a file while walking); not followed`,
    );
    expect(await readdir(outside)).toEqual(['secret.log']);
    expect(await exists(`${slow}.gz`)).toBe(true);
  });

  it('stops mid-file when the signal fires and leaves the original intact', async () => {
    const file = path.join(directory, 'huge.log');
    await writeFile(file, '');
    await truncate(file, 512 * 1024 * 1024); // sparse: instant to create, long to compress
    await utimes(file, TWO_HOURS_AGO, TWO_HOURS_AGO);
    const handler = new LogsCompressHandler({ roots: [directory] });
    const { context, controller } = taskContext();
    const running = handler.run(handler.parse({ directory, olderThanMinutes: 60 }), context);
    await timing.waitFor(() => exists(`${file}.gz.partial`), { intervalMs: 1 });
    controller.abort(new TaskAbortReason('cancelled'));
    await expect(running).rejects.toBeInstanceOf(HandlerAbortedError);
    expect(await readdir(directory)).toEqual(['huge.log']);
    expect((await stat(file)).size).toBe(512 * 1024 * 1024);
  });

  it('names the field of every bad payload', () => {
    const handler = new LogsCompressHandler();
    const cases: [unknown, RegExp][] = [
      [{ olderThanMinutes: 5 }, /^payload\.directory is required$/],
      [
        { directory: 'var/log', olderThanMinutes: 5 },
        /^payload\.directory must be an absolute path/,
      ],
      [
        { directory: '/var/log/../../etc', olderThanMinutes: 5 },
        /^payload\.directory must not contain '\.\.'/,
      ],
      [{ directory: '/var/log' }, /^payload\.olderThanMinutes is required$/],
      [
        { directory: '/var/log', olderThanMinutes: -1 },
        /^payload\.olderThanMinutes must be between 0 and/,
      ],
      [
        { directory: '/var/log', olderThanMinutes: 5, pattern: 'a/*.log' },
        /^payload\.pattern must be a file-name glob/,
      ],
      [
        { directory: '/var/log', olderThanMinutes: 5, pattern: '{a,b}'.repeat(30) },
        /^payload\.pattern expands to more than 64 globs/,
      ],
      [
        { directory: '/var/log', olderThanMinutes: 5, recursive: 'yes' },
        /^payload\.recursive must be a boolean$/,
      ],
      [
        { directory: '/var/log', olderThanMinutes: 5, dryRun: true },
        /^payload\.dryRun is not a known field/,
      ],
    ];
    for (const [payload, message] of cases) {
      expect(() => handler.parse(payload)).toThrow(PayloadError);
      expect(() => handler.parse(payload)).toThrow(message);
    }
    expect(handler.parse({ directory: '/var/log/', olderThanMinutes: 0 })).toEqual({
      directory: '/var/log/',
      olderThanMinutes: 0,
      pattern: '*.log',
      recursive: false,
    });
  });
});
