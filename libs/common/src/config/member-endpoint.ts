import type { Server } from 'node:http';
import type { HttpAdapterHost } from '@nestjs/core';
import type { AppConfig } from './app-config';

/** The application's HTTP server, when it has one (none in a bare application context). */
export function httpServerOf(adapterHost: HttpAdapterHost | undefined): Server | undefined {
  try {
    return adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
  } catch {
    return undefined;
  }
}

/**
 * `<ADVERTISED_HOST>:<port>` for a member node: the port the server listens on
 * (known only once it listens, which matters with HTTP_PORT=0), else HTTP_PORT.
 */
export function memberEndpoint(config: AppConfig, server?: Server): string {
  const address = server?.address();
  const port = address !== null && typeof address === 'object' ? address.port : config.httpPort;
  return `${config.advertisedHost}:${port}`;
}
