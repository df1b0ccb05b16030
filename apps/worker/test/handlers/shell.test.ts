import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { timing } from '@app/zk/testing';
import {
  HandlerAbortedError,
  PayloadError,
  ShellCommandFailedError,
  ShellHandler,
  TaskAbortReason,
  type ShellHandlerOptions,
} from '../../src/handlers';
import { taskContext } from './task-context';

/** Gone = no such process, or a zombie nobody reaped yet (it runs nothing). */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name.
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function pidsIn(file: string, count: number): Promise<number[]> {
  return timing.waitFor(
    async () => {
      const pids = (await readFile(file, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== '')
        .map(Number);
      return pids.length >= count ? pids : undefined;
    },
    { message: `${count} pids in ${file}`, intervalMs: 10 },
  );
}

describe('shell handler', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await realpath(await mkdtemp(path.join(os.tmpdir(), 'shell-handler-')));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function run(payload: unknown, options: ShellHandlerOptions = {}) {
    const handler = new ShellHandler(options);
    return handler.run(handler.parse(payload), taskContext().context);
  }

  it('runs a command with an argument array, never through a shell', async () => {
    await expect(run({ command: 'echo', args: ['$HOME;', 'rm', '-rf', '*'] })).resolves.toEqual({
      exitCode: 0,
      stdout: '$HOME; rm -rf *\n',
      stderr: '',
      truncated: false,
    });
  });

  it('fails on a non-zero exit with the code and the stderr tail', async () => {
    const error = await run({
      command: 'sh',
      args: ['-c', 'echo partial; echo disk full >&2; exit 3'],
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ShellCommandFailedError);
    expect(error).toMatchObject({
      message: 'sh exited with code 3: disk full',
      exitCode: 3,
      stdout: 'partial\n',
    });
  });

  it('keeps the last maxOutputBytes of each stream and says it truncated', async () => {
    const result = await run(
      {
        command: 'sh',
        args: ['-c', 'i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done'],
      },
      { maxOutputBytes: 100 },
    );
    expect(result.truncated).toBe(true);
    expect(result.stdout).toHaveLength(100);
    expect(result.stdout.endsWith('line 499\n')).toBe(true);
  });

  it('gives the task ids, allowed env and a fixed PATH, and none of the worker environment', async () => {
    process.env.WORKER_SECRET_FOR_TEST = 'hunter2';
    try {
      const handler = new ShellHandler({ allowedEnv: ['GREETING', 'APP_*'] });
      const { context } = taskContext({ taskId: 't-9', attempt: 2, idempotencyKey: 'k-9' });
      const result = await handler.run(
        handler.parse({
          command: 'sh',
          args: [
            '-c',
            'echo "$TASK_ID $TASK_ATTEMPT $TASK_IDEMPOTENCY_KEY $GREETING $APP_MODE [$WORKER_SECRET_FOR_TEST] $PATH [$HOME]"',
          ],
          env: { GREETING: 'hi', APP_MODE: 'x' },
        }),
        context,
      );
      expect(result.stdout).toBe(
        't-9 2 k-9 hi x [] /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin []\n',
      );
    } finally {
      delete process.env.WORKER_SECRET_FOR_TEST;
    }
  });

  it('refuses every variable the allowlist does not name: code-injection ones first', () => {
    const strict = new ShellHandler();
    const listed = new ShellHandler({ allowedEnv: ['GREETING'] });
    for (const name of [
      'BASH_ENV',
      'ENV',
      'SHELLOPTS',
      'PS4',
      'PERL5OPT',
      'NODE_OPTIONS',
      'PYTHONSTARTUP',
      'GIT_CONFIG_COUNT',
      'IFS',
    ]) {
      expect(() => strict.parse({ command: 'sh', env: { [name]: 'x' } })).toThrow(
        `payload.env.${name} is not allowed: this worker lets tasks set no environment variable (WORKER_SHELL_ENV)`,
      );
      expect(() => listed.parse({ command: 'sh', env: { [name]: 'x' } })).toThrow(
        `payload.env.${name} is not allowed: tasks may set only GREETING (WORKER_SHELL_ENV)`,
      );
    }
    for (const name of ['PATH', 'LD_PRELOAD', 'DYLD_INSERT_LIBRARIES']) {
      expect(() => listed.parse({ command: 'sh', env: { [name]: 'x' } })).toThrow(
        /is never passed/,
      );
    }
    expect(() => new ShellHandler({ allowedEnv: ['LD_*'] })).toThrow(/may not open LD_\*/);
  });

  it("checks every argument against the command's patterns, whole", () => {
    const handler = new ShellHandler({
      allowedCommands: ['echo', 'gzip'],
      argumentPatterns: { gzip: ['-k', '/data/exports/[a-z0-9-]+\\.csv'] },
    });
    expect(() =>
      handler.parse({ command: 'gzip', args: ['-k', '/data/exports/day-1.csv'] }),
    ).not.toThrow();
    for (const [args, index] of [
      [['-k', '/data/exports/../secrets.csv'], 1],
      [['/data/exports/a.csv/../../x.csv'], 0],
      [['-kf', '/data/exports/a.csv'], 0],
      [['--to-stdout'], 0],
    ] as const) {
      expect(() => handler.parse({ command: 'gzip', args })).toThrow(
        `payload.args[${index}] is not allowed for gzip: it matches none of the worker's argument patterns`,
      );
    }
    // No patterns for echo: any arguments.
    expect(() =>
      handler.parse({ command: 'echo', args: ['anything', '--at', 'all'] }),
    ).not.toThrow();
  });

  it('on abort, kills the whole process group (grandchildren included)', async () => {
    const pidFile = path.join(directory, 'pids');
    const handler = new ShellHandler();
    const { context, controller } = taskContext();
    const running = handler.run(
      handler.parse({
        command: 'sh',
        args: [
          '-c',
          'echo $$ > pids; sleep 30 & echo $! >> pids; sleep 30 & echo $! >> pids; wait',
        ],
        cwd: directory,
      }),
      context,
    );
    const pids = await pidsIn(pidFile, 3);
    expect(pids.every((pid) => !isGone(pid))).toBe(true);
    controller.abort(new TaskAbortReason('cancelled'));
    const error = await running.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HandlerAbortedError);
    expect(error).toMatchObject({ code: 'cancelled' });
    await timing.waitFor(() => pids.every(isGone), {
      message: `processes ${pids.join(', ')} gone`,
    });
  });

  it('escalates to SIGKILL after the grace when the group ignores SIGTERM', async () => {
    const pidFile = path.join(directory, 'pids');
    const handler = new ShellHandler({ killGraceMs: 200 });
    const { context, controller } = taskContext();
    const running = handler.run(
      handler.parse({
        command: 'sh',
        // An ignored signal stays ignored across exec, so the sleep ignores TERM too.
        args: ['-c', 'trap "" TERM; echo $$ > pids; sleep 30 & echo $! >> pids; wait'],
        cwd: directory,
      }),
      context,
    );
    const pids = await pidsIn(pidFile, 2);
    const abortedAt = performance.now();
    controller.abort(new TaskAbortReason('timeout'));
    await expect(running).rejects.toBeInstanceOf(HandlerAbortedError);
    expect(performance.now() - abortedAt).toBeGreaterThanOrEqual(190);
    await timing.waitFor(() => pids.every(isGone), {
      message: `processes ${pids.join(', ')} gone`,
    });
  });

  it('ends what the command left running in its group when it exits', async () => {
    const result = await run({ command: 'sh', args: ['-c', 'sleep 30 & echo $!'] });
    const orphan = Number(result.stdout.trim());
    expect(orphan).toBeGreaterThan(0);
    await timing.waitFor(() => isGone(orphan), { message: `orphan ${orphan} gone` });
  });

  it('refuses commands outside allowedCommands, resolved once at start in the fixed PATH', async () => {
    const handler = new ShellHandler({ allowedCommands: ['sh', 'echo'] });
    expect(() => handler.parse({ command: 'bash', args: ['-c', 'id'] })).toThrow(
      "payload.command 'bash' is not in the worker's allowed commands (sh, echo)",
    );
    expect(() => handler.parse({ command: '/bin/sh' })).toThrow(PayloadError);
    // Neither the worker's PATH (changed after start) nor the task's can swap `echo`.
    const fake = path.join(directory, 'echo');
    await writeFile(fake, '#!/bin/sh\necho fake\n', { mode: 0o755 });
    const savedPath = process.env.PATH;
    process.env.PATH = `${directory}:${savedPath}`;
    try {
      const result = await handler.run(
        handler.parse({ command: 'echo', args: ['real echo'] }),
        taskContext().context,
      );
      expect(result.stdout).toBe('real echo\n');
    } finally {
      process.env.PATH = savedPath;
    }
    expect(() => new ShellHandler({ allowedCommands: ['no-such-command-zk'] })).toThrow(
      /no-such-command-zk is not an executable file/,
    );
  });

  it('keeps cwd inside the working directory, symlinks included', async () => {
    const root = path.join(directory, 'root');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await symlink(directory, path.join(root, 'escape'));
    const handler = new ShellHandler({ workingDirectory: root });

    expect(() => handler.parse({ command: 'pwd', cwd: '../' })).toThrow(
      `payload.cwd must stay inside the working directory ${root}, got ../`,
    );
    expect(() => handler.parse({ command: 'pwd', cwd: '/etc' })).toThrow(PayloadError);
    await expect(
      handler.run(handler.parse({ command: 'pwd', cwd: 'escape' }), taskContext().context),
    ).rejects.toThrow(`payload.cwd resolves outside the working directory ${root}: escape`);

    const inSub = await handler.run(
      handler.parse({ command: 'pwd', cwd: 'sub' }),
      taskContext().context,
    );
    expect(inSub.stdout).toBe(`${path.join(root, 'sub')}\n`);
    const atRoot = await handler.run(handler.parse({ command: 'pwd' }), taskContext().context);
    expect(atRoot.stdout).toBe(`${root}\n`);
  });

  it('ends a command that runs past the worker limit (timeoutMs) and fails the task', async () => {
    const pidFile = path.join(directory, 'pid');
    const failure = run(
      { command: 'sh', args: ['-c', `echo $$ > ${pidFile}; exec sleep 30`] },
      { timeoutMs: 300, killGraceMs: 200 },
    );
    await expect(failure).rejects.toBeInstanceOf(ShellCommandFailedError);
    await expect(failure).rejects.toThrow(/ran longer than the worker's shell limit of 300 ms/);
    const [pid] = await pidsIn(pidFile, 1);
    expect(isGone(pid)).toBe(true);
  });

  it('reports commands that cannot start', async () => {
    await expect(run({ command: 'no-such-command-zk' })).rejects.toThrow(
      'command not found: no-such-command-zk',
    );
    await expect(run({ command: path.join(directory, 'missing') })).rejects.toThrow(
      /^command not found: .*missing$/,
    );
  });

  it('names the field of every bad payload', () => {
    const handler = new ShellHandler();
    const cases: [unknown, RegExp][] = [
      [{}, /^payload\.command is required$/],
      [{ command: '' }, /^payload\.command must be a non-empty string$/],
      [{ command: 'sh -c "id"', shell: true }, /^payload\.shell is not a known field/],
      [{ command: 'sh', args: 'id' }, /^payload\.args must be an array of strings$/],
      [{ command: 'sh', args: ['-c', 1] }, /^payload\.args\[1\] must be a string$/],
      [{ command: 'sh', env: { A: 1 } }, /^payload\.env\.A must be a string$/],
      [{ command: 'sh', env: { 'A-B': 'x' } }, /^payload\.env\.A-B is not a valid environment/],
      [
        { command: 'sh', env: { LD_PRELOAD: '/x.so' } },
        /^payload\.env\.LD_PRELOAD is never passed/,
      ],
      [{ command: 'sh', cwd: 'relative' }, /^payload\.cwd must be an absolute path$/],
    ];
    for (const [payload, message] of cases) {
      expect(() => handler.parse(payload)).toThrow(PayloadError);
      expect(() => handler.parse(payload)).toThrow(message);
    }
  });
});
