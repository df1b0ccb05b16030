import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FixtureProcess, sweepStaleTempDirs, timing } from '@app/zk/testing';
import { findPostgresBinaries, TestingPostgres } from '@app/audit/testing';
import type { OwnerStarted } from './fixtures/testing-postgres-owner';

/** The harness itself: its binaries, its user, and no orphans. */

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

test('picks the newest system installation unless PG_BIN says otherwise', () => {
  const found = findPostgresBinaries();
  expect(found.major).toBeGreaterThanOrEqual(13);
  expect(findPostgresBinaries({ env: { PG_BIN: found.binDir } })).toMatchObject({
    source: 'PG_BIN',
    binDir: found.binDir,
  });
  expect(() => findPostgresBinaries({ env: { PG_BIN: '/nonexistent' } })).toThrow(/PG_BIN/);
});

test('close() stops the server and removes its folder; as root the data belongs to postgres', async () => {
  const postgres = await TestingPostgres.start();
  const pid = postgres.pid!;
  const dir = postgres.dir;
  if (process.getuid?.() === 0) expect(statSync(join(dir, 'data')).uid).not.toBe(0);
  await postgres.close();
  expect(isAlive(pid)).toBe(false);
  expect(existsSync(dir)).toBe(false);
  await expect(postgres.start()).rejects.toThrow(/closed/);
});

test('a test process killed with SIGKILL leaves no server behind (parent-death signal)', async () => {
  // Its own temp parent: another test process's sweep (any run on this machine)
  // must not remove the folder before this test looks at it.
  const parent = mkdtempSync(join(tmpdir(), 'pg-owner-'));
  chmodSync(parent, 0o755); // as root the server runs as postgres, which must reach its folder
  const owner = FixtureProcess.spawn<OwnerStarted>(
    join(__dirname, 'fixtures', 'testing-postgres-owner.ts'),
    { env: { TMPDIR: parent } },
  );
  const started = await owner.waitFor((message) => message.kind === 'started', 20_000);
  expect(isAlive(started.pid)).toBe(true);
  await owner.kill('SIGKILL');
  await timing.waitFor(() => !isAlive(started.pid), {
    timeoutMs: 5_000,
    message: `postgres ${started.pid} outlived its owner`,
  });
  // Its folder is left (nobody ran the exit hooks): the sweep that the harness
  // runs once per test process removes it, its owner being dead.
  expect(existsSync(started.dir)).toBe(true);
  sweepStaleTempDirs(parent);
  expect(existsSync(started.dir)).toBe(false);
  rmSync(parent, { recursive: true, force: true });
});
