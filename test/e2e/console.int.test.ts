/**
 * The web console in a real browser (Debian's Chromium driven by
 * playwright-core) against a real cluster: ZooKeeper, PostgreSQL, a registry
 * serving the console, two schedulers and two workers as processes, API
 * tokens on. An operator signs in, creates a job with its preview and sees it
 * fire, triggers and pauses it, cancels a running task, watches a worker
 * killed with kill -9 leave and its task get reassigned; a reader gets a
 * read-only console and cannot create a job. Each page is saved as a
 * screenshot at a desktop size in docs/console/ (shown in the README).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestingServer, timing } from '@app/zk/testing';
import type { TaskView } from '@app/contracts/dto/scheduler-api';
import type { AppProcess } from '../support/app-process';
import { LocalCluster } from '../support/local-cluster';

jest.setTimeout(timing.ms(240_000));

const ROOT = path.join(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'docs', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN = 'admin-token-0123456789abcdef';
const SUBMITTER = 'submitter-token-0123456789ab';
const READER = 'reader-token-0123456789abcdef';
/** Waits in the browser scale with the machine's load like every other wait. */
const UI_WAIT = timing.ms(20_000);

let server: TestingServer;
let cluster: LocalCluster;
let registry: AppProcess;
let schedulers: AppProcess[];
let workers: AppProcess[];
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install the Debian package chromium (.ci/run does)`);
  }
  // The console as the sources say now (a second or so).
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-console.mjs')], { cwd: ROOT });
  const tokens = path.join(mkdtempSync(path.join(tmpdir(), 'zks-console-')), 'tokens.json');
  writeFileSync(
    tokens,
    JSON.stringify([
      { name: 'ops', role: 'admin', token: ADMIN },
      { name: 'ci', role: 'submitter', token: SUBMITTER },
      { name: 'grafana', role: 'reader', token: READER },
    ]),
  );
  server = await TestingServer.start();
  cluster = new LocalCluster({
    connectString: server.connectString,
    env: { API_TOKENS_FILE: tokens, REGISTRY_RETENTION_MS: '600000' },
  });
  registry = await cluster.start('registry');
  schedulers = [await cluster.start('scheduler'), await cluster.start('scheduler')];
  workers = [
    await cluster.start('worker', { WORKER_CAPACITY: '4', WORKER_LABELS: 'zone=a' }),
    await cluster.start('worker', { WORKER_CAPACITY: '4', WORKER_LABELS: 'zone=b' }),
  ];
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(UI_WAIT);
  mkdirSync(SHOTS, { recursive: true });
}, timing.ms(180_000));

afterAll(async () => {
  await browser?.close();
  await cluster?.close();
  await server?.close();
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

async function signIn(target: Page, token: string): Promise<void> {
  await target.goto(registry.url('/'));
  await target.getByLabel('Token', { exact: true }).fill(token);
  await target.getByRole('button', { name: 'Sign in' }).click();
  await target.getByTestId('access').waitFor({ timeout: UI_WAIT });
}

/** The scheduler API as the admin, straight (for setup and checks the browser does not need). */
async function schedulerApi<T>(method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(schedulers[0].url(route), {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as T;
}

test('the console is served at the registry root, asks for a token, and shows the cluster', async () => {
  await signIn(page, ADMIN);
  await expectText(page.getByTestId('access'), /ops \(admin\)/);
  const leader = page.getByTestId('leader');
  await expectText(leader, /fencing epoch\s*\d+/);
  await expectText(leader, new RegExp(schedulers.map((s) => s.memberId).join('|')));
  for (const worker of workers) {
    await page.locator(`[data-worker="${worker.memberId}"]`).waitFor({ timeout: UI_WAIT });
  }
  await expectText(page.getByTestId('outbox'), /\d+ waiting/);
  await shot('cluster');
});

test('create a job: preview of fire times in its zone, field errors, then it fires', async () => {
  await page.goto(registry.url('/#/jobs'));
  await page.getByRole('button', { name: 'New job' }).click();
  const form = page.getByRole('form', { name: 'New job' });
  await form.getByLabel('Name').fill('console-every-3s');
  await form.getByLabel('Handler (type)').fill('noop');
  // A wrong schedule: the preview names the field at once.
  await form.getByLabel(/^Schedule/).fill('61 * * * *');
  await expectText(form.locator('#err-schedule'), /schedule/);
  await form.getByLabel(/^Schedule/).fill('*/3 * * * * *');
  await form.getByLabel('Time zone').fill('Asia/Tokyo');
  const preview = form.getByTestId('preview').locator('li');
  await timing.waitFor(async () => (await preview.count()) === 10, {
    timeoutMs: UI_WAIT,
    message: 'ten previewed instants',
  });
  const instants = await preview.allInnerTexts();
  for (const instant of instants)
    expect(instant).toMatch(/:\d[0369]\+09:00|\d{2}:\d{2}:\d{2}\+09:00/);
  await expectText(form, /every 3 seconds/);
  await shot('job-create');
  await form.getByRole('button', { name: 'Create job' }).click();
  // The job page: the job fires, the run succeeds and shows in the runs table.
  await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/, { timeout: UI_WAIT });
  await waitForText(page.getByTestId('runs'), /succeeded[\s\S]*succeeded/, () =>
    page.getByRole('button', { name: 'Refresh' }).click(),
  );
  await shot('job');
});

test('trigger and pause from the job list', async () => {
  await page.goto(registry.url('/#/jobs'));
  await page.getByRole('searchbox').fill('console-every');
  const row = page.locator('[data-job="console-every-3s"]');
  await row.waitFor({ timeout: UI_WAIT });
  // The last fire's outcome, from its task.
  await expectText(row, /succeeded/);
  await row.getByRole('button', { name: /Trigger/ }).click();
  await expectText(page.locator('.toast'), /triggered console-every-3s: task \S+@manual-/);
  await row.getByRole('button', { name: /Pause/ }).click();
  await expectText(row, /paused/);
  await shot('jobs');
  const jobs = await schedulerApi<{ items: Array<{ name: string; paused: boolean }> }>(
    'GET',
    '/v1/jobs?name=console-every',
  );
  expect(jobs.items).toEqual([expect.objectContaining({ name: 'console-every-3s', paused: true })]);
});

test('edit the job: its page shows who changed what, from the audit history', async () => {
  await page.goto(registry.url('/#/jobs'));
  await page.getByRole('searchbox').fill('console-every');
  await page.getByRole('link', { name: 'console-every-3s' }).click();
  await page.getByRole('button', { name: 'Edit' }).click();
  const form = page.getByRole('form', { name: 'Edit job console-every-3s' });
  await form.getByLabel(/^Schedule/).fill('*/5 * * * * *');
  await form.getByRole('button', { name: 'Save' }).click();
  await expectText(page.getByRole('region', { name: 'Definition' }), /every 5 seconds/);
  const changes = page.getByTestId('changes');
  // Drained into the history within a moment; the page follows the job's events.
  await expectText(
    changes,
    /updated by token ops[\s\S]*schedule: "\*\/3 \* \* \* \* \*" → "\*\/5 \* \* \* \* \*"/,
  );
  await expectText(changes, /paused by token ops[\s\S]*paused: false → true/);
  await expectText(changes, /created by token ops/);
  await changes.scrollIntoViewIfNeeded();
  await shot('job-changes');
});

test('cancel a running task from its page', async () => {
  await page.goto(registry.url('/#/tasks'));
  await page.getByRole('button', { name: 'Submit a task' }).click();
  const form = page.getByRole('form', { name: 'Submit a task' });
  await form.getByLabel('Handler (type)').fill('sleep');
  await form.getByLabel('Payload (JSON)').fill('{"ms": 60000}');
  await form.getByRole('button', { name: 'Submit' }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f-]{36}$/, { timeout: UI_WAIT });
  const taskId = decodeURIComponent(page.url().split('/').pop() as string);
  await expectText(page.locator('h1'), /running/);
  await page.getByRole('button', { name: 'Cancel task' }).click();
  await expectText(page.locator('h1'), /cancelled/);
  await page
    .getByTestId('timeline')
    .locator('[data-type="task.cancelled"]')
    .waitFor({ timeout: UI_WAIT });
  await shot('task');
  expect((await schedulerApi<TaskView>('GET', `/v1/tasks/${taskId}`)).state).toBe('cancelled');
  await page.goto(registry.url('/#/tasks?state=cancelled'));
  await expectText(page.getByTestId('tasks'), new RegExp(taskId));
  await shot('tasks');
});

test('a worker killed with kill -9 leaves the cluster page and its task shows the reassignment', async () => {
  const submitted = await schedulerApi<{ id: string }>('POST', '/v1/tasks', {
    type: 'sleep',
    payload: { ms: 8_000 },
  });
  const running = await cluster.waitForTask(submitted.id, (t) => t.state === 'running');
  const victim = workers.find((w) => w.memberId === running.workerId) as AppProcess;
  await page.goto(registry.url('/#/cluster'));
  const row = page.locator(`[data-worker="${victim.memberId}"]`);
  await row.waitFor({ timeout: UI_WAIT });
  await victim.signal('SIGKILL');
  // Gone once its session expires (2 s here), without reloading the page.
  await row.waitFor({ state: 'detached', timeout: UI_WAIT });
  await expectText(page.getByTestId('member-feed'), new RegExp(`worker.left ${victim.memberId}`));
  await shot('cluster-worker-left');
  await page.goto(registry.url(`/#/tasks/${encodeURIComponent(submitted.id)}`));
  const reassigned = page.getByTestId('timeline').locator('[data-type="task.reassigned"]');
  await reassigned.waitFor({ timeout: UI_WAIT });
  await expectText(reassigned, new RegExp(`attempt 1 on ${victim.memberId}.*— \\S+`));
  await expectText(page.getByTestId('task-record'), /attempt\s*2 \(0 failed/);
  await shot('task-reassigned');
});

test('history: the audit search filtered by type', async () => {
  await page.goto(registry.url('/#/history'));
  await page.getByLabel('type').selectOption('task.succeeded');
  await page.getByRole('button', { name: 'Search' }).click();
  // The unfiltered page shows first; then only the type asked for.
  const typeCells = page.getByTestId('history').first().locator('tbody td:nth-child(3)');
  await timing.waitFor(
    async () => {
      const types = new Set(await typeCells.allInnerTexts());
      return types.size === 1 && types.has('task.succeeded');
    },
    { timeoutMs: UI_WAIT, message: 'only task.succeeded rows' },
  );
  await expectText(page.locator('.pager'), /page 1/);
  // The live tail, same filter: a task that succeeds now shows up without a reload.
  await page.getByLabel('live tail').check();
  const live = page.getByRole('region', { name: 'Live tail' });
  await expectText(live.getByTestId('stream-state'), /following/);
  const submitted = await schedulerApi<{ id: string }>('POST', '/v1/tasks', { type: 'noop' });
  // The tail has the page's filter (type task.succeeded): the task's row is its success.
  await expectText(live, new RegExp(`task\\.succeeded[^\\n]*${submitted.id}`));
  await shot('history');
});

test('a reader gets a read-only console and cannot create a job', async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const reader = await context.newPage();
  try {
    await signIn(reader, READER);
    await expectText(reader.getByTestId('access'), /grafana \(reader\)\s*read-only/);
    await reader.goto(registry.url('/#/jobs'));
    await reader.locator('[data-job="console-every-3s"]').waitFor({ timeout: UI_WAIT });
    expect(await reader.getByRole('button', { name: 'New job' }).count()).toBe(0);
    expect(await reader.getByRole('button', { name: /Trigger|Pause|Delete/ }).count()).toBe(0);
    // Even a hand-made call from the console's origin with the reader token is refused by the API.
    const status = await reader.evaluate(async (token) => {
      const response = await fetch('/api/scheduler/v1/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'sneaky', type: 'noop', schedule: '* * * * *' }),
      });
      return response.status;
    }, READER);
    expect(status).toBe(403);
  } finally {
    await context.close();
  }
});

/** Waits until the locator's text matches. */
async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  await waitForText(locator, pattern);
}

async function waitForText(
  locator: ReturnType<Page['locator']>,
  pattern: RegExp,
  poke?: () => Promise<unknown>,
): Promise<void> {
  let last = '';
  await timing.waitFor(
    async () => {
      last = (await locator.innerText({ timeout: 1_000 }).catch(() => '')) ?? '';
      if (pattern.test(last)) return true;
      await poke?.();
      return undefined;
    },
    {
      timeoutMs: UI_WAIT,
      intervalMs: 250,
      message: () => `never matched ${pattern}; last text:\n${last}`,
    },
  );
}

// Last: it stops the cluster's schedulers, then its registry.
test('a banner says when no scheduler runs, then when the registry cannot be reached', async () => {
  await page.goto(registry.url('/#/cluster'));
  await page.getByTestId('leader').waitFor();
  const banner = page.getByRole('alert').filter({ hasText: /scheduler|registry/ });
  expect(await banner.count()).toBe(0);
  await Promise.all(schedulers.map((s) => s.signal('SIGKILL')));
  // Their member nodes go with their sessions (2 s); the page polls the cluster view.
  await expectText(banner, /No scheduler is running/);
  await registry.signal('SIGKILL');
  await expectText(banner, /The registry cannot be reached/);
});
