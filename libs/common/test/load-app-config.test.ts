import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import {
  AppConfig,
  ConfigValidationError,
  loadAppConfig,
  type Environment,
  type ServiceDescriptor,
} from '@app/common';

const SCHEDULER: ServiceDescriptor = {
  name: 'scheduler',
  defaultHttpPort: 3000,
  defaultGrpcPort: 50051,
};
const WORKER: ServiceDescriptor = { name: 'worker', defaultHttpPort: 3002 };

function problemsOf(env: Environment, service: ServiceDescriptor = SCHEDULER): string[] {
  try {
    loadAppConfig(env, service);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems.map((p) => p.message);
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

function problemOf(env: Environment, service: ServiceDescriptor = SCHEDULER): string {
  const problems = problemsOf(env, service);
  expect(problems).toHaveLength(1);
  return problems[0] ?? '';
}

describe('loadAppConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadAppConfig({}, SCHEDULER);
    expect(config).toBeInstanceOf(AppConfig);
    expect(config).toEqual({
      service: 'scheduler',
      zooKeeper: { connect: '127.0.0.1:2181', root: '/zk-scheduler', sessionTimeoutMs: 10000 },
      databaseUrl: undefined,
      httpPort: 3000,
      grpcPort: 50051,
      worker: { capacity: 8, labels: {}, allowShell: false },
      apiToken: undefined,
      logLevel: 'info',
      logRequests: 'failed',
      heapGrowthPercent: 60,
      memberId: `${hostname()}-${process.pid}`,
      advertisedHost: hostname(),
    });
  });

  it('takes MEMBER_ID as the member id and refuses one that is no plain name', () => {
    expect(loadAppConfig({ MEMBER_ID: 'scheduler-1' }, SCHEDULER).memberId).toBe('scheduler-1');
    expect(() => loadAppConfig({ MEMBER_ID: 'a/b' }, SCHEDULER)).toThrow(
      /MEMBER_ID must be 1-100 letters/,
    );
  });

  it('takes ADVERTISED_HOST (a host name or an IP), else the host name; refuses a port or a scheme', () => {
    expect(loadAppConfig({ ADVERTISED_HOST: 'scheduler-1' }, SCHEDULER).advertisedHost).toBe(
      'scheduler-1',
    );
    expect(loadAppConfig({ ADVERTISED_HOST: ' 10.0.0.7 ' }, SCHEDULER).advertisedHost).toBe(
      '10.0.0.7',
    );
    expect(loadAppConfig({ ADVERTISED_HOST: '::1' }, SCHEDULER).advertisedHost).toBe('::1');
    expect(loadAppConfig({ ADVERTISED_HOST: '' }, SCHEDULER).advertisedHost).toBe(hostname());
    for (const bad of ['host:3000', 'http://host', 'a..b', '-host', 'host name']) {
      expect(() => loadAppConfig({ ADVERTISED_HOST: bad }, SCHEDULER)).toThrow(
        /ADVERTISED_HOST must be a host name or an IP address/,
      );
    }
  });

  it('uses the per-service ports and gives the worker no gRPC port', () => {
    expect(
      loadAppConfig({}, { name: 'registry', defaultHttpPort: 3001, defaultGrpcPort: 50052 }),
    ).toMatchObject({ httpPort: 3001, grpcPort: 50052 });
    const worker = loadAppConfig({ GRPC_PORT: 'not even checked' }, WORKER);
    expect(worker.httpPort).toBe(3002);
    expect(worker.grpcPort).toBeUndefined();
  });

  it('reads and types every variable', () => {
    const config = loadAppConfig(
      {
        ZK_CONNECT: 'zk1:2181,zk2:2181,[::1]:2182/chroot/a',
        ZK_ROOT: '/prod/zk-scheduler',
        ZK_SESSION_TIMEOUT_MS: ' 4000 ',
        DATABASE_URL: 'postgresql://app:pw@db:5432/zks',
        HTTP_PORT: '0',
        GRPC_PORT: '0',
        WORKER_CAPACITY: '32',
        WORKER_LABELS: 'zone=eu-west-1a, gpu=true ,disk=',
        WORKER_ALLOW_SHELL: 'TRUE',
        API_TOKEN: 's3cr3t-token-0123456789',
        LOG_LEVEL: 'debug',
        LOG_REQUESTS: 'all',
        HEAP_GROWTH_PERCENT: '0',
      },
      SCHEDULER,
    );
    expect(config.zooKeeper).toEqual({
      connect: 'zk1:2181,zk2:2181,[::1]:2182/chroot/a',
      root: '/prod/zk-scheduler',
      sessionTimeoutMs: 4000,
    });
    expect(config.databaseUrl).toBe('postgresql://app:pw@db:5432/zks');
    expect(config.httpPort).toBe(0);
    expect(config.grpcPort).toBe(0);
    expect(config.worker).toEqual({
      capacity: 32,
      labels: { zone: 'eu-west-1a', gpu: 'true', disk: '' },
      allowShell: true,
    });
    expect(config.apiToken).toBe('s3cr3t-token-0123456789');
    expect(config.logLevel).toBe('debug');
    expect(config.logRequests).toBe('all');
    expect(config.heapGrowthPercent).toBe(0);
    expect(Object.isFrozen(config.worker.labels)).toBe(true);
  });

  it('treats blank values as unset', () => {
    const config = loadAppConfig({ ZK_ROOT: '  ', API_TOKEN: '', HTTP_PORT: '' }, SCHEDULER);
    expect(config.zooKeeper.root).toBe('/zk-scheduler');
    expect(config.apiToken).toBeUndefined();
    expect(config.httpPort).toBe(3000);
  });

  it('stops on ZK_SESSION_TIMEOUT_MS=abc with a message naming the variable', () => {
    expect(() => loadAppConfig({ ZK_SESSION_TIMEOUT_MS: 'abc' }, SCHEDULER)).toThrow(
      ConfigValidationError,
    );
    expect(() => loadAppConfig({ ZK_SESSION_TIMEOUT_MS: 'abc' }, SCHEDULER)).toThrow(
      /ZK_SESSION_TIMEOUT_MS must be an integer \(got "abc"\)/,
    );
  });

  it.each([
    [{ ZK_SESSION_TIMEOUT_MS: '1e4' }, 'ZK_SESSION_TIMEOUT_MS must be an integer'],
    [{ ZK_SESSION_TIMEOUT_MS: '12.5' }, 'ZK_SESSION_TIMEOUT_MS must be an integer'],
    [{ ZK_SESSION_TIMEOUT_MS: '500' }, 'ZK_SESSION_TIMEOUT_MS must be at least 1000'],
    [{ ZK_SESSION_TIMEOUT_MS: '600000' }, 'ZK_SESSION_TIMEOUT_MS must be at most 120000'],
    [{ ZK_ROOT: 'zk-scheduler' }, 'ZK_ROOT must be an absolute znode path'],
    [
      { ZK_ROOT: '/' },
      'ZK_ROOT must be an absolute znode path such as /zk-scheduler below the root',
    ],
    [{ ZK_ROOT: '/a/' }, 'ZK_ROOT must not end with /'],
    [{ ZK_ROOT: '/a//b' }, 'ZK_ROOT must not contain an empty path segment'],
    [{ ZK_ROOT: '/a/../b' }, 'ZK_ROOT must not contain . or .. segments'],
    [{ ZK_ROOT: '/zookeeper/x' }, 'ZK_ROOT must not be under /zookeeper'],
    [{ ZK_CONNECT: 'zk1:2181,bad host:2181' }, 'ZK_CONNECT must be host:port'],
    [{ ZK_CONNECT: 'zk1:99999' }, 'ZK_CONNECT has port 99999 out of range'],
    [{ ZK_CONNECT: 'zk1:2181/' }, 'ZK_CONNECT has a chroot that'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT must be a port number between 0 and 65535'],
    [{ HTTP_PORT: '-1' }, 'HTTP_PORT must be a port number between 0 and 65535'],
    [{ HTTP_PORT: 'http' }, 'HTTP_PORT must be an integer'],
    [{ GRPC_PORT: '3000' }, 'GRPC_PORT must differ from HTTP_PORT (both are 3000)'],
    [{ WORKER_CAPACITY: '0' }, 'WORKER_CAPACITY must be at least 1'],
    [{ WORKER_CAPACITY: 'eight' }, 'WORKER_CAPACITY must be an integer'],
    [{ WORKER_LABELS: 'zone' }, 'WORKER_LABELS must be key=value'],
    [{ WORKER_LABELS: 'a=1,,b=2' }, 'WORKER_LABELS has an empty entry'],
    [{ WORKER_LABELS: 'a=1,a=2' }, 'WORKER_LABELS repeats the key "a"'],
    [{ WORKER_LABELS: 'a b=1' }, 'WORKER_LABELS has an invalid key "a b"'],
    [{ WORKER_LABELS: 'a=x,y' }, 'WORKER_LABELS must be key=value'],
    [{ WORKER_LABELS: 'a=x y' }, 'WORKER_LABELS has an invalid value "x y" for a'],
    [{ WORKER_ALLOW_SHELL: 'maybe' }, 'WORKER_ALLOW_SHELL must be true or false'],
    [
      { LOG_LEVEL: 'verbose' },
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    [{ LOG_REQUESTS: 'some' }, 'LOG_REQUESTS must be one of failed, all'],
    [{ HEAP_GROWTH_PERCENT: '301' }, 'HEAP_GROWTH_PERCENT must be at most 300'],
    [{ HEAP_GROWTH_PERCENT: '-1' }, 'HEAP_GROWTH_PERCENT must be at least 0'],
    [{ HEAP_GROWTH_PERCENT: '1.5' }, 'HEAP_GROWTH_PERCENT must be an integer'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL must be a URL'],
    [
      { DATABASE_URL: 'mysql://u@h/db' },
      'DATABASE_URL must use the postgres:// or postgresql:// scheme',
    ],
    [{ API_TOKEN: 'two words' }, 'API_TOKEN must not contain whitespace'],
    [{ API_TOKEN: 'short' }, 'API_TOKEN must be at least 16 characters'],
    [{ ZK_AUTH: 'no-colon' }, 'ZK_AUTH must be user:password'],
    [{ ZK_AUTH: 'user:' }, 'ZK_AUTH must be user:password'],
  ])('rejects %j', (env, expected) => {
    expect(problemOf(env)).toContain(expected);
  });

  it('echoes a wrong value, except for secrets', () => {
    expect(problemOf({ LOG_LEVEL: 'loud' })).toContain('(got "loud")');
    expect(problemOf({ DATABASE_URL: 'mysql://u:hunter2@h/db' })).not.toContain('hunter2');
    expect(problemOf({ API_TOKEN: 'hunter2 x' })).not.toContain('hunter2');
    expect(problemOf({ ZK_AUTH: 'hunter2' })).not.toContain('hunter2');
  });

  it('reports every wrong variable at once, each by name', () => {
    const error = (() => {
      try {
        loadAppConfig({ ZK_ROOT: 'x', WORKER_CAPACITY: '-3', LOG_LEVEL: 'loud' }, WORKER);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigValidationError);
    const validation = error as ConfigValidationError;
    expect(validation.problems.map((p) => p.variable).sort()).toEqual([
      'LOG_LEVEL',
      'WORKER_CAPACITY',
      'ZK_ROOT',
    ]);
    expect(validation.message).toMatch(/^invalid configuration:\n {2}- /);
  });

  it('reads DATABASE_URL_FILE and ZK_AUTH_FILE when the variables are unset, naming an unreadable file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zks-secrets-'));
    writeFileSync(path.join(dir, 'db'), 'postgres://svc:pw@db:5432/zk\n');
    writeFileSync(path.join(dir, 'zk'), 'svc:zkpass\n');
    const config = loadAppConfig(
      { DATABASE_URL_FILE: path.join(dir, 'db'), ZK_AUTH_FILE: path.join(dir, 'zk') },
      SCHEDULER,
    );
    expect(config.databaseUrl).toBe('postgres://svc:pw@db:5432/zk');
    expect(config.zooKeeper.digest).toBe('svc:zkpass');
    expect(
      loadAppConfig({ ZK_AUTH: 'env:wins', ZK_AUTH_FILE: path.join(dir, 'zk') }, SCHEDULER)
        .zooKeeper.digest,
    ).toBe('env:wins');
    expect(problemOf({ DATABASE_URL_FILE: path.join(dir, 'missing') })).toMatch(
      /^DATABASE_URL_FILE cannot be read \(ENOENT/,
    );
    // An empty secret file is an error, never "unset" (which would leave ACLs or the API open).
    writeFileSync(path.join(dir, 'empty'), ' \n');
    for (const variable of ['ZK_AUTH_FILE', 'API_TOKEN_FILE', 'DATABASE_URL_FILE']) {
      expect(problemOf({ [variable]: path.join(dir, 'empty') })).toBe(
        `${variable} names an empty file (${path.join(dir, 'empty')}): write the secret into it, or unset ${variable}`,
      );
    }
  });

  it('masks secrets when the config is serialised', () => {
    const config = loadAppConfig(
      {
        API_TOKEN: 'tok-0123456789abcdef',
        DATABASE_URL: 'postgres://u:pw@h/d',
        ZK_AUTH: 'svc:zkpass',
      },
      SCHEDULER,
    );
    expect(config.zooKeeper.digest).toBe('svc:zkpass');
    const json = JSON.stringify(config);
    expect(json).not.toContain('tok-0123456789abcdef');
    expect(json).not.toContain(':pw@');
    expect(json).not.toContain('zkpass');
    expect(JSON.parse(json)).toMatchObject({
      apiToken: '<set>',
      databaseUrl: '<set>',
      zooKeeper: { digest: '<set>' },
      httpPort: 3000,
    });
  });
});
