import { constants, createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, crc32 } from 'node:zlib';

export type GzipOutcome =
  | { kind: 'compressed'; bytesBefore: number; bytesAfter: number }
  | { kind: 'skipped'; reason: 'recent' | 'not_regular' | 'modified' };

/** Suffix of the file being written; a leftover from a crash is overwritten by the next run. */
export const PARTIAL_SUFFIX = '.gz.partial';

const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;
const WRITE_NO_FOLLOW =
  constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * Gzips `file` into `file.gz` when its mtime is before `cutoffMs`, then removes
 * `file`. Crash-safe and repeatable: the data goes to `file.gz.partial`, is
 * fsynced and checked against the gzip trailer (CRC-32 and length of what was
 * read), and only then renamed over `file.gz`; the original is removed last.
 * A crash at any point leaves the original in place, so a re-run redoes the
 * file and replaces whatever partial or stale `.gz` it finds.
 *
 * Symlinks are never followed (O_NOFOLLOW on both files), and a file that
 * changes while it is compressed is left alone.
 */
export async function gzipFile(
  file: string,
  cutoffMs: number,
  level: number,
  signal: AbortSignal,
): Promise<GzipOutcome> {
  const source = await open(file, READ_NO_FOLLOW);
  try {
    const before = await source.stat();
    if (!before.isFile()) {
      return { kind: 'skipped', reason: 'not_regular' };
    }
    if (before.mtimeMs >= cutoffMs) {
      return { kind: 'skipped', reason: 'recent' };
    }
    const partial = `${file}${PARTIAL_SUFFIX}`;
    const target = await open(partial, WRITE_NO_FOLLOW, before.mode & 0o777);
    let bytesAfter: number;
    try {
      const written = await compress(source, target, level, signal);
      await target.sync();
      bytesAfter = (await target.stat()).size;
      await verifyTrailer(target, bytesAfter, written, partial);
      if (written.size !== before.size) {
        throw new Error(`${file}: read ${written.size} bytes but the file has ${before.size}`);
      }
      const after = await source.stat();
      if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
        await target.close();
        await rm(partial, { force: true });
        return { kind: 'skipped', reason: 'modified' };
      }
      // Keep the original's times and mode, as gzip does (retention tools read mtime).
      await target.chmod(before.mode & 0o7777);
      await target.utimes(before.atime, before.mtime);
      await target.close();
    } catch (error: unknown) {
      await target.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw error;
    }
    await rename(partial, `${file}.gz`);
    await syncDirectory(path.dirname(file));
    await unlink(file);
    return { kind: 'compressed', bytesBefore: before.size, bytesAfter };
  } finally {
    await source.close();
  }
}

interface Written {
  /** Uncompressed bytes read. */
  size: number;
  /** CRC-32 of the uncompressed bytes. */
  crc: number;
}

async function compress(
  source: FileHandle,
  target: FileHandle,
  level: number,
  signal: AbortSignal,
): Promise<Written> {
  const written: Written = { size: 0, crc: 0 };
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written.size += chunk.length;
      written.crc = crc32(chunk, written.crc);
      callback(null, chunk);
    },
  });
  // Streams over the raw fds, not FileHandle.createReadStream/createWriteStream:
  // with autoClose false those make FileHandle.close() hang (nodejs/node#54797)
  // or close the handle on early destroy (nodejs/node#45721). We close both handles.
  await pipeline(
    createReadStream('', { fd: source.fd, start: 0, autoClose: false }),
    measure,
    createGzip({ level }),
    createWriteStream('', { fd: target.fd, autoClose: false }),
    { signal },
  );
  return written;
}

/** The last 8 bytes of a gzip member are CRC-32 and length mod 2^32 (RFC 1952), written last. */
async function verifyTrailer(
  target: FileHandle,
  size: number,
  written: Written,
  name: string,
): Promise<void> {
  const trailer = Buffer.alloc(8);
  const { bytesRead } = size >= 18 ? await target.read(trailer, 0, 8, size - 8) : { bytesRead: 0 };
  if (
    bytesRead !== 8 ||
    trailer.readUInt32LE(0) !== written.crc >>> 0 ||
    trailer.readUInt32LE(4) !== written.size % 2 ** 32
  ) {
    throw new Error(`${name}: gzip output is incomplete (trailer does not match the input)`);
  }
}

/** Makes the rename durable before the original is removed. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
