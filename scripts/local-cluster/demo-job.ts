/**
 * The demo: a folder of old `.log` files and a job that gzips them every
 * minute with the built-in `logs.compress` handler — the classic cluster
 * chore. Both are idempotent across restarts: missing demo files are written
 * again, and a job that already exists (409 on its name) is fine.
 */
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CreateJobBody, JobView, Page } from '../../libs/contracts/src/dto/scheduler-api';

export const DEMO_JOB_NAME = 'demo-compress-logs';
const OLD_FILES = 3;
const AGE_HOURS = 2;
const OLDER_THAN_MINUTES = 60;

export interface DemoJob {
  id: string;
  created: boolean;
  directory: string;
  nextFireAt: string | null;
}

/** Makes sure the folder holds a few `.log` files two hours old and one fresh one (left alone). */
export function prepareDemoLogs(directory: string): void {
  mkdirSync(directory, { recursive: true });
  const oldLogs = readdirSync(directory).filter((name) => /^app-.*\.log$/.test(name));
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
  const old = new Date(Date.now() - AGE_HOURS * 3_600_000);
  for (let i = oldLogs.length; i < OLD_FILES; i += 1) {
    const file = join(directory, `app-${stamp}-${i + 1}.log`);
    const lines = Array.from(
      { length: 2_000 },
      (_, n) => `${old.toISOString()} INFO request ${n} served in ${n % 97} ms`,
    );
    writeFileSync(file, `${lines.join('\n')}\n`);
    utimesSync(file, old, old);
  }
  writeFileSync(join(directory, 'current.log'), `${new Date().toISOString()} INFO still written\n`);
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** The APIs will require a bearer token when API_TOKEN is set (not enforced yet; harmless now). */
function authorization(): Record<string, string> {
  const token = process.env.API_TOKEN?.trim();
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function findJobByName(apiBase: string, name: string): Promise<JobView | undefined> {
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${apiBase}/v1/jobs?${query}`, { headers: authorization() });
    if (!response.ok) throw new Error(`GET /v1/jobs answered ${response.status}`);
    const page = await json<Page<JobView>>(response);
    const found = page.items.find((job) => job.name === name);
    if (found) return found;
    cursor = page.nextCursor;
  } while (cursor);
  return undefined;
}

export async function ensureDemoJob(apiBase: string, directory: string): Promise<DemoJob> {
  const body: CreateJobBody = {
    name: DEMO_JOB_NAME,
    type: 'logs.compress',
    schedule: '* * * * *',
    payload: { directory, olderThanMinutes: OLDER_THAN_MINUTES },
  };
  const response = await fetch(`${apiBase}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authorization() },
    body: JSON.stringify(body),
  });
  if (response.status === 201) {
    const job = await json<JobView>(response);
    return { id: job.id, created: true, directory, nextFireAt: job.nextFireAt };
  }
  if (response.status === 409) {
    // Created by an earlier start: the name is taken, which is what we want.
    await response.body?.cancel();
    const job = await findJobByName(apiBase, DEMO_JOB_NAME);
    if (job === undefined) throw new Error(`${DEMO_JOB_NAME}: 409 on create, yet not listed`);
    const payload = job.payload as { directory?: unknown } | null;
    const jobDirectory = typeof payload?.directory === 'string' ? payload.directory : directory;
    return { id: job.id, created: false, directory: jobDirectory, nextFireAt: job.nextFireAt };
  }
  throw new Error(
    `POST /v1/jobs for the demo job answered ${response.status}: ${await response.text()}`,
  );
}
