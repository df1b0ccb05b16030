import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** How long the HTTP server's close waits for the requests in flight before it closes their connections. */
export const OPEN_REQUEST_GRACE_MS = 5_000;

interface RequestInFlight {
  method: string;
  url: string;
  since: number;
}

/**
 * The HTTP server's part of a shutdown. Node's `server.close()` (which Nest
 * calls once the `beforeApplicationShutdown` hooks ran) waits for every
 * request in flight, for as long as they take: one request that waits for
 * something only a later hook would release kept a scheduler from exiting
 * (chaos seed 1337125550). The close waits OPEN_REQUEST_GRACE_MS, then
 * closes the connections still open (their clients see the connection end
 * and may retry elsewhere; a write they sent is kept or not by ZooKeeper,
 * as on any lost answer). The requests in flight are kept for the
 * ShutdownWatch's report.
 */
@Injectable()
export class HttpShutdown implements OnApplicationBootstrap {
  private readonly logger = new Logger('Shutdown');
  private readonly inFlight = new Set<RequestInFlight>();

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server === undefined) return;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const entry = { method: request.method ?? '?', url: request.url ?? '?', since: Date.now() };
      this.inFlight.add(entry);
      response.once('close', () => this.inFlight.delete(entry));
    });
    const close = server.close.bind(server);
    server.close = (callback?: (error?: Error) => void): Server => {
      const deadline = setTimeout(() => this.cut(server), OPEN_REQUEST_GRACE_MS);
      deadline.unref();
      return close((error?: Error) => {
        clearTimeout(deadline);
        callback?.(error);
      });
    };
  }

  /** The requests in flight, oldest first: `GET /v1/jobs (12034 ms)`. */
  describeInFlight(now = Date.now()): string[] {
    return [...this.inFlight].map((r) => `${r.method} ${r.url} (${now - r.since} ms)`);
  }

  private cut(server: Server): void {
    this.logger.warn({
      msg: `requests still open ${OPEN_REQUEST_GRACE_MS} ms into the shutdown: closing their connections`,
      requests: this.describeInFlight(),
    });
    server.closeAllConnections();
  }
}
