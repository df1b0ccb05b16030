import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import {
  AppConfigModule,
  bootstrapService,
  HealthModule,
  LoggingModule,
  MetricsModule,
  type ServiceDescriptor,
} from '@app/common';

const SERVICE: ServiceDescriptor = { name: 'worker', defaultHttpPort: 3002 };

@Module({
  imports: [AppConfigModule.forRoot(SERVICE), LoggingModule, HealthModule, MetricsModule],
})
class TestServiceModule {}

class ExitCalled extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`process.exit(${String(code)})`);
  }
}

describe('bootstrapService', () => {
  const savedEnv = { ...process.env };
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  let exit: jest.SpyInstance;

  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new ExitCalled(code);
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
    process.env = { ...savedEnv };
  });

  it('exits with code 1 and a message naming the variable when the config is wrong', async () => {
    process.env.ZK_SESSION_TIMEOUT_MS = 'abc';
    await expect(bootstrapService(TestServiceModule, SERVICE)).rejects.toEqual(new ExitCalled(1));
    expect(exit).toHaveBeenCalledWith(1);
    const written = stderr.mock.calls.map((call) => String(call[0])).join('');
    expect(written).toContain('worker: invalid configuration:');
    expect(written).toContain('ZK_SESSION_TIMEOUT_MS must be an integer (got "abc")');
  });

  it('listens on HTTP_PORT, logs where as JSON, and serves /health/live', async () => {
    process.env.HTTP_PORT = '0';
    process.env.LOG_LEVEL = 'info';
    let app: INestApplication | undefined;
    try {
      app = await bootstrapService(TestServiceModule, SERVICE);
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const res = await fetch(`${url}/health/live`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    } finally {
      await app?.close();
    }
    expect(exit).not.toHaveBeenCalled();
    const lines = stdout.mock.calls.map((call) => String(call[0]));
    const listening = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => String(entry.msg).startsWith('worker listening on http://'));
    expect(listening).toMatchObject({ level: 30, service: 'worker', pid: process.pid });
  });
});
