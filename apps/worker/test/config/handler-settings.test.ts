import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigValidationError } from '@app/common';
import { DEFAULT_SHELL_TIMEOUT_MS, loadHandlerSettings } from '../../src/config/handler-settings';

function messages(env: Record<string, string>, allowShell: boolean): string[] {
  try {
    loadHandlerSettings(env, allowShell);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems.map((p) => p.message);
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadHandlerSettings', () => {
  it('leaves shell off and the other handlers unrestricted by default', () => {
    expect(loadHandlerSettings({}, false)).toEqual({ allowShell: false });
  });

  it('needs an allowlist when shell is on, and confines it to a working folder', () => {
    expect(messages({}, true)).toEqual([
      expect.stringMatching(/^WORKER_SHELL_COMMANDS must list the executables/),
    ]);
    const workdir = mkdtempSync(path.join(tmpdir(), 'zks-workdir-'));
    expect(
      loadHandlerSettings(
        { WORKER_SHELL_COMMANDS: 'echo, tar', WORKER_SHELL_WORKDIR: workdir },
        true,
      ).shell,
    ).toEqual({
      allowedCommands: ['echo', 'tar'],
      workingDirectory: workdir,
      timeoutMs: DEFAULT_SHELL_TIMEOUT_MS,
      maxOutputBytes: 65_536,
    });
    expect(
      loadHandlerSettings({ WORKER_SHELL_COMMANDS: '*', WORKER_SHELL_TIMEOUT_MS: '0' }, true).shell,
    ).toMatchObject({
      allowedCommands: undefined,
      workingDirectory: process.cwd(),
      timeoutMs: undefined,
    });
  });

  it('resolves commands at start, and reads argument patterns and the env allowlist', () => {
    expect(messages({ WORKER_SHELL_COMMANDS: 'echo,no-such-command-zk' }, true)).toEqual([
      expect.stringMatching(
        /^WORKER_SHELL_COMMANDS names no-such-command-zk, not an executable file \(bare names are looked up in \/usr\/local\/sbin:/,
      ),
    ]);
    expect(
      loadHandlerSettings(
        {
          WORKER_SHELL_COMMANDS: 'echo,gzip',
          WORKER_SHELL_ARGS: '{"gzip": ["-k", "/data/[a-z]+\\\\.csv"]}',
          WORKER_SHELL_ENV: 'GREETING, APP_*',
        },
        true,
      ).shell,
    ).toMatchObject({
      allowedCommands: ['echo', 'gzip'],
      argumentPatterns: { gzip: ['-k', '/data/[a-z]+\\.csv'] },
      allowedEnv: ['GREETING', 'APP_*'],
    });
    expect(
      messages(
        {
          WORKER_SHELL_COMMANDS: 'echo',
          WORKER_SHELL_ARGS: '{"tar": ["x"], "echo": ["(unclosed"]}',
          WORKER_SHELL_ENV: 'GOOD,LD_PRELOAD',
        },
        true,
      ),
    ).toEqual([
      expect.stringMatching(/^WORKER_SHELL_ENV has "LD_PRELOAD": list variable names/),
      'WORKER_SHELL_ARGS has patterns for tar, which WORKER_SHELL_COMMANDS does not list',
      expect.stringMatching(/^WORKER_SHELL_ARGS has an invalid pattern for echo: /),
    ]);
    expect(messages({ WORKER_SHELL_COMMANDS: 'echo', WORKER_SHELL_ARGS: '[1]' }, true)).toEqual([
      'WORKER_SHELL_ARGS must be a JSON object {"<command>": ["<regular expression>", …]}',
    ]);
  });

  it('reads the http hosts and logs.compress roots', () => {
    expect(
      loadHandlerSettings(
        {
          WORKER_HTTP_ALLOWED_HOSTS: 'api.example.com,*.internal',
          WORKER_LOGS_ROOTS: '/var/log,/srv/logs',
        },
        false,
      ),
    ).toEqual({
      allowShell: false,
      http: { allowedHosts: ['api.example.com', '*.internal'] },
      logsCompress: { roots: ['/var/log', '/srv/logs'] },
    });
  });

  it('names every wrong variable', () => {
    expect(
      messages(
        {
          WORKER_SHELL_COMMANDS: 'echo',
          WORKER_SHELL_WORKDIR: 'relative',
          WORKER_SHELL_TIMEOUT_MS: 'soon',
          WORKER_HTTP_ALLOWED_HOSTS: 'http://x',
          WORKER_LOGS_ROOTS: 'logs',
        },
        true,
      ),
    ).toEqual([
      expect.stringMatching(/^WORKER_SHELL_WORKDIR must be an absolute path/),
      expect.stringMatching(/^WORKER_SHELL_TIMEOUT_MS must be a whole number/),
      expect.stringMatching(
        /^WORKER_HTTP_ALLOWED_HOSTS has an invalid entry: "http:\/\/x" is not a host name/,
      ),
      expect.stringMatching(/^WORKER_LOGS_ROOTS must list absolute directories/),
    ]);
  });
});
