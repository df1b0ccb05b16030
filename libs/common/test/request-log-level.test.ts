import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadAppConfig } from '../src/config/load-app-config';
import { loggerParams } from '../src/logging/logging.module';

const SCHEDULER = { name: 'scheduler', defaultHttpPort: 3000, defaultGrpcPort: 50051 } as const;

function levelOf(env: Record<string, string>, statusCode: number, error?: Error): string {
  const params = loggerParams(loadAppConfig(env, SCHEDULER));
  const http = params.pinoHttp as {
    customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error) => string;
  };
  return http.customLogLevel({} as IncomingMessage, { statusCode } as ServerResponse, error);
}

describe('request log lines (LOG_REQUESTS)', () => {
  it('by default logs failed requests only', () => {
    expect(levelOf({}, 200)).toBe('silent');
    expect(levelOf({}, 202)).toBe('silent');
    expect(levelOf({}, 404)).toBe('warn');
    expect(levelOf({}, 503)).toBe('error');
    expect(levelOf({}, 200, new Error('stream broke'))).toBe('error');
  });

  it('with LOG_REQUESTS=all logs every request', () => {
    expect(levelOf({ LOG_REQUESTS: 'all' }, 201)).toBe('info');
    expect(levelOf({ LOG_REQUESTS: 'all' }, 422)).toBe('warn');
    expect(levelOf({ LOG_REQUESTS: 'all' }, 500)).toBe('error');
  });
});
