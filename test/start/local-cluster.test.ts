import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ZooKeeperNotInstalledError,
  type ZooKeeperInstallation,
} from '@app/zk/testing/zookeeper-installation';
import { readableLine } from '../../scripts/local-cluster/log-line';
import { parseStartOptions, UsageError } from '../../scripts/local-cluster/options';
import {
  localSafeDefaults,
  localWebhookKey,
  readSettings,
} from '../../scripts/local-cluster/settings';
import { planTopology } from '../../scripts/local-cluster/topology';
import {
  ensureZooKeeperInstallation,
  type InstallationSystem,
} from '../../scripts/local-cluster/zookeeper-installation';

/** The pure parts of `npm start` (scripts/local-cluster); the whole of it runs in npm-start.int.test.ts. */

describe('command line', () => {
  test('defaults to 2 schedulers, 2 workers and the demo', () => {
    expect(parseStartOptions([])).toEqual({ schedulers: 2, workers: 2, demo: true, help: false });
  });

  test('--schedulers, --workers and --no-demo change the topology', () => {
    expect(parseStartOptions(['--schedulers', '3', '--workers=0', '--no-demo'])).toEqual({
      schedulers: 3,
      workers: 0,
      demo: false,
      help: false,
    });
  });

  test.each([
    [['--schedulers', '0'], /--schedulers must be a whole number from 1 to 20/],
    [['--workers', '2.5'], /--workers must be a whole number from 0 to 20/],
    [['--workers', '21'], /--workers must be a whole number from 0 to 20/],
    [['--replicas', '2'], /Unknown option '--replicas'/],
  ])('%j is refused with a message naming the option', (argv, message) => {
    expect(() => parseStartOptions(argv)).toThrow(UsageError);
    expect(() => parseStartOptions(argv)).toThrow(message);
  });
});

describe('ports', () => {
  test('replicas take base + 10 × index; the registry has gRPC too, workers do not', () => {
    const settings = readSettings({}, '/repo');
    const specs = planTopology(
      { schedulers: 2, workers: 2, demo: true, help: false },
      settings.ports,
    );
    expect(specs).toEqual([
      { app: 'scheduler', memberId: 'scheduler-1', httpPort: 3000, grpcPort: 50051 },
      { app: 'scheduler', memberId: 'scheduler-2', httpPort: 3010, grpcPort: 50061 },
      { app: 'registry', memberId: 'registry-1', httpPort: 3001, grpcPort: 50052 },
      { app: 'worker', memberId: 'worker-1', httpPort: 3002 },
      { app: 'worker', memberId: 'worker-2', httpPort: 3012 },
    ]);
    expect(settings.dataDir).toBe('/repo/.data');
    expect(settings.ports.zooKeeper).toBe(2181);
  });

  test('the bases come from ZKS_* variables, which are checked', () => {
    const settings = readSettings(
      { ZKS_SCHEDULER_HTTP_PORT: '4000', ZKS_DATA_DIR: 'tmp/d', ZK_CONNECT: ' zk:2181 ' },
      '/repo',
    );
    expect(settings.ports.schedulerHttp).toBe(4000);
    expect(settings.dataDir).toBe('/repo/tmp/d');
    expect(settings.zkConnect).toBe('zk:2181');
    expect(() => readSettings({ ZKS_WORKER_HTTP_PORT: '70000' }, '/repo')).toThrow(
      'ZKS_WORKER_HTTP_PORT must be a port number from 1 to 65535 (got "70000")',
    );
  });
});

describe('readable log lines', () => {
  const line = (fields: Record<string, unknown>): string =>
    JSON.stringify({
      level: 30,
      time: '2026-01-02T03:04:05.678Z',
      pid: 1,
      hostname: 'h',
      service: 's',
      ...fields,
    });

  test('a request log reads method, url, status and time', () => {
    const readable = readableLine(
      line({
        req: { method: 'POST', url: '/v1/tasks' },
        res: { statusCode: 202 },
        responseTime: 6,
        msg: 'request completed',
      }),
    );
    expect(readable.text).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}POST \/v1\/tasks → 202 \(6 ms\)$/,
    );
    expect(readable.quiet).toBe(false);
  });

  test('message, context and extra fields stay; errors are red; Nest start-up chatter is quiet', () => {
    const readable = readableLine(
      line({
        level: 50,
        msg: 'election error',
        context: 'Leadership',
        err: { message: 'boom' },
        epoch: 3,
      }),
    );
    expect(readable.text).toContain('ERROR election error (Leadership) — boom {"epoch":3}');
    expect(readable.tone).toBe('error');
    expect(
      readableLine(line({ msg: 'Mapped {/v1/jobs, POST} route', context: 'RouterExplorer' })).quiet,
    ).toBe(true);
  });

  test('a line that is not JSON is shown as it is', () => {
    expect(readableLine('worker: invalid configuration:  ')).toEqual({
      text: 'worker: invalid configuration:',
      tone: 'plain',
      quiet: false,
    });
  });
});

describe('ZooKeeper installation', () => {
  const found = { home: '/usr/share/java' } as ZooKeeperInstallation;

  function system(
    overrides: Partial<InstallationSystem>,
    installedAfter = 1,
  ): {
    system: InstallationSystem;
    commands: string[];
  } {
    const commands: string[] = [];
    let finds = 0;
    return {
      commands,
      system: {
        env: {},
        find: () => {
          finds += 1;
          if (finds > installedAfter) return found;
          throw new ZooKeeperNotInstalledError('ZooKeeper not found');
        },
        aptGet: () => ['apt-get'],
        run: (argv) => {
          commands.push(argv.join(' '));
          return true;
        },
        say: () => undefined,
        ...overrides,
      },
    };
  }

  test('an installed ZooKeeper is used as it is', () => {
    const { system: host, commands } = system({}, 0);
    expect(ensureZooKeeperInstallation(host)).toBe(found);
    expect(commands).toEqual([]);
  });

  test('a missing one is installed with apt-get when it can run as root', () => {
    const { system: host, commands } = system({});
    expect(ensureZooKeeperInstallation(host)).toBe(found);
    expect(commands).toEqual(['apt-get -o DPkg::Lock::Timeout=300 install -y zookeeper']);
  });

  test('a failed install refreshes the package lists and tries again', () => {
    let runs = 0;
    const { system: host } = system({ run: () => (runs += 1) > 1 });
    expect(ensureZooKeeperInstallation(host)).toBe(found);
    expect(runs).toBe(3);
  });

  test('without apt-get as root the error says what to install', () => {
    const { system: host } = system({ aptGet: () => undefined });
    expect(() => ensureZooKeeperInstallation(host)).toThrow(
      /apt-get install -y zookeeper.*ZK_CONNECT/s,
    );
  });

  test('a wrong ZOOKEEPER_HOME is reported, not papered over with apt-get', () => {
    const { system: host, commands } = system({ env: { ZOOKEEPER_HOME: '/opt/zk' } });
    expect(() => ensureZooKeeperInstallation(host)).toThrow(ZooKeeperNotInstalledError);
    expect(commands).toEqual([]);
  });
});

describe('webhook key of a local cluster', () => {
  test('made once in the data folder (0600) and passed by file; a given key or file wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zks-key-'));
    try {
      const first = localWebhookKey({}, dir);
      const file = first.WEBHOOK_SECRET_KEY_FILE ?? '';
      expect(file).toBe(join(dir, 'webhook-secret.key'));
      const key = readFileSync(file, 'utf8');
      expect(Buffer.from(key.trim(), 'base64')).toHaveLength(32);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(localWebhookKey({}, dir)).toEqual(first);
      expect(readFileSync(file, 'utf8')).toBe(key);
      expect(localWebhookKey({ WEBHOOK_SECRET_KEY: 'k' }, dir)).toEqual({});
      expect(localWebhookKey({ WEBHOOK_SECRET_KEY_FILE: '/k' }, dir)).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('safe defaults of a local cluster', () => {
  test('loopback, every request logged and the demo folder unless set, the demo folder added to given roots', () => {
    expect(localSafeDefaults({}, '/d/demo-logs')).toEqual({
      LOG_REQUESTS: 'all',
      BIND_HOST: '127.0.0.1',
      ADVERTISED_HOST: '127.0.0.1',
      WORKER_LOGS_ROOTS: '/d/demo-logs',
    });
    expect(
      localSafeDefaults(
        {
          BIND_HOST: '0.0.0.0',
          ADVERTISED_HOST: 'box',
          WORKER_LOGS_ROOTS: '/var/log',
          LOG_REQUESTS: 'failed',
        },
        '/d/demo-logs',
      ),
    ).toEqual({
      LOG_REQUESTS: 'failed',
      BIND_HOST: '0.0.0.0',
      ADVERTISED_HOST: 'box',
      WORKER_LOGS_ROOTS: '/var/log,/d/demo-logs',
    });
  });
});
