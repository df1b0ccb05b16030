import { main } from '../src/main';
import { table } from '../src/output';
import { auditLine } from '../src/views';
import { collectLabel, durationMs, parseTimeAgo, parseTimeAhead } from '../src/parsers';

/**
 * The command line itself, in process: help, and every kind of usage error
 * exits 2 with a message naming the problem before any request is made (no
 * server runs here: a request would fail with exit 5 instead). The commands
 * against a cluster are in zks.int.test.ts.
 */

async function zks(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    writeOut: (text) => (out += text),
    writeErr: (text) => (err += text),
  });
  return { code, out, err };
}

const UNREACHABLE = ['--url', 'http://127.0.0.1:1', '--registry-url', 'http://127.0.0.1:1'];

test('--help lists the commands and the exit codes; per-command help shows its options', async () => {
  const help = await zks('--help');
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/^Usage: zks \[options\] \[command\]/);
  for (const command of ['jobs', 'tasks', 'audit', 'cluster']) {
    expect(help.out).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
  }
  expect(help.out).toContain('Exit codes: 0 ok, 1 the operation failed');
  const submit = await zks('tasks', 'submit', '--help');
  expect(submit.code).toBe(0);
  expect(submit.out).toContain('--idempotency-key <key>');
  expect(submit.out).toContain('-w, --watch');
  const jobs = await zks('help', 'jobs');
  expect(jobs.code).toBe(0);
  for (const sub of ['create', 'preview', 'list', 'get', 'pause', 'resume', 'delete', 'trigger']) {
    expect(jobs.out).toMatch(new RegExp(`^ {2}${sub}\\b`, 'm'));
  }
});

test.each([
  [[], /Usage: zks/],
  [['jobs'], /Usage: zks jobs/],
  [['jobs', 'frobnicate'], /unknown command 'frobnicate'/],
  [
    ['tasks', 'submit', '--type', 'noop', '--payload', '{not json'],
    /--payload <json>.*not valid JSON/,
  ],
  [
    ['tasks', 'submit', '--type', 'noop', '--payload', '@/no/such/file'],
    /cannot read \/no\/such\/file/,
  ],
  [
    ['tasks', 'submit', '--type', 'noop', '--timeout-ms', '1.5'],
    /--timeout-ms.*must be a whole number/,
  ],
  [['tasks', 'submit', '--type', 'noop', '--label', 'zone'], /--label.*must be key=value/],
  [['tasks', 'submit', '--type', 'noop', '--run-at', 'tomorrow'], /--run-at.*ISO 8601/],
  [['tasks', 'list', '--state', 'sleeping'], /Allowed choices are pending/],
  [['tasks', 'list', '--limit', '0'], /--limit.*must be from 1 to 1000/],
  [['tasks', 'list', '--all', '--cursor', 'x'], /--all.*cannot be used with option '--cursor/],
  [['tasks', 'watch', 'x', '--timeout', 'soon'], /--timeout.*positive number of seconds/],
  [['tasks', 'get'], /missing required argument 'task'/],
  [['jobs', 'create', '--type', 'noop'], /required option '--name <name>' not specified/],
  [
    [
      'jobs',
      'create',
      '--name',
      'a',
      '--type',
      'noop',
      '--schedule',
      '* * * * *',
      '--run-at',
      '+1m',
    ],
    /cannot be used with/,
  ],
  [['audit', '--type', 'task.exploded'], /Allowed choices are job.created/],
  [['audit', '--since', 'last week'], /--since.*ISO 8601/],
  [['--url', 'localhost:3000', 'cluster'], /--url.*must be an http:\/\/ or https:\/\/ URL/],
  [['cluster', '--frobnicate'], /unknown option '--frobnicate'/],
])('%j is a usage error (exit 2)', async (argv, message) => {
  const run = await zks(...UNREACHABLE, ...argv);
  expect(run.err).toMatch(message);
  expect(run.code).toBe(2);
});

test('tables align columns on the widest cell', () => {
  expect(
    table(
      ['ID', 'STATE'],
      [
        ['a', 'running'],
        ['long-id', '-'],
      ],
    ),
  ).toBe('ID       STATE\na        running\nlong-id  -');
});

test('times: ISO passes through as written, durations count from now', () => {
  expect(durationMs('1.5s')).toBe(1_500);
  expect(durationMs('2h')).toBe(7_200_000);
  expect(durationMs('10')).toBeUndefined();
  expect(parseTimeAgo('2026-01-31T12:00:00+01:00')).toBe('2026-01-31T12:00:00+01:00');
  const ago = Date.parse(parseTimeAgo('10m'));
  expect(Math.abs(Date.now() - 600_000 - ago)).toBeLessThan(5_000);
  const ahead = Date.parse(parseTimeAhead('+30s'));
  expect(Math.abs(Date.now() + 30_000 - ahead)).toBeLessThan(5_000);
});

test('labels collect into one selector; a value may hold =', () => {
  expect(collectLabel('b=x=y', collectLabel('a=1', undefined))).toEqual({ a: '1', b: 'x=y' });
});

test('a followed event is one line: seq, time, type, then what it is about', () => {
  const line = auditLine({
    seq: '42',
    id: 'e-1',
    time: '2026-11-21T09:30:01.123Z',
    type: 'task.failed',
    jobId: 'j',
    taskId: 'j@1',
    workerId: 'worker-1',
    attempt: 2,
    actor: 'worker/worker-1/7',
    fencingToken: null,
    detail: { code: 'timeout' },
  });
  expect(line).toBe(
    '42  2026-11-21 09:30:01Z  task.failed  task=j@1  worker=worker-1  attempt=2  {"code":"timeout"}',
  );
});
