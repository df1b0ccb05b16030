import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** How long the HTTP server's close waits for the requests in flight before it closes their connections. */
export const OPEN_REQUEST_GRACE_MS = 5_000;

interface RequestInFlight {
  method: string;
  url: string;
  since: number;
  response: ServerResponse;
}

/**
 * The HTTP server's part of a shutdown. Node's `server.close()` (which Nest
 * calls once the `beforeApplicationShutdown` hooks ran) closes the
 * keep-alive connections idle at that moment and waits for the others; one
 * busy then stays open after its answer and serves its client's next
 * requests, so a client that sends more often than the keep-alive timeout
 * holds it for ever: a scheduler under the chaos workload never exited (seed
 * 1337125550; the next run showed a close waiting with no request in flight,
 * and a request that began 5 s into it). So, from the first shutdown step
 * on, every response says `Connection: close` (a client's next request opens
 * a connection elsewhere, or finds none: the listening socket closes with
 * the server), and the close waits OPEN_REQUEST_GRACE_MS for the requests
 * still in flight, then closes their connections (their clients see the
 * connection end and may retry; a write they sent is kept or not by
 * ZooKeeper, as on any lost answer). The requests in flight are kept for the
 * ShutdownWatch's report.
 */
@Injectable()
export class HttpShutdown implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Shutdown');
  private readonly inFlight = new Set<RequestInFlight>();
  private stopping = false;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server === undefined) return;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (this.stopping) response.shouldKeepAlive = false;
      const entry = {
        method: request.method ?? '?',
        url: request.url ?? '?',
        since: Date.now(),
        response,
      };
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

  /** The shutdown's first step: the connections end with their current answers. */
  onModuleDestroy(): void {
    this.stopping = true;
    for (const { response } of this.inFlight) {
      if (!response.headersSent) response.shouldKeepAlive = false;
    }
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
