import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { loadTlsSettings } from '@app/common';
import { ClusterViewService } from '../cluster/cluster-view.service';
import { consoleAssets, consoleDirectory } from './console-assets';
import { schedulerProxy } from './scheduler-proxy';

/**
 * The web console at the registry's root: its files, and `/api/scheduler/*`
 * forwarded to a live scheduler, so a browser needs this one origin.
 * Everything else goes on to the registry's own routes.
 */
@Injectable()
export class ConsoleMiddleware implements NestMiddleware {
  private readonly proxy: ReturnType<typeof schedulerProxy>;
  private readonly assets = consoleAssets(consoleDirectory());

  constructor(cluster: ClusterViewService) {
    // The settings were checked at start (bootstrapService); the schedulers share them.
    const tls = loadTlsSettings(process.env);
    this.proxy = schedulerProxy(() => cluster.snapshot().schedulers.map((s) => s.endpoint), {
      tls: tls && { cert: tls.cert },
    });
  }

  use(
    request: IncomingMessage & { originalUrl?: string },
    response: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    // Fastify's middleware runner cuts the path it matched (all of it, for every
    // path) from `url`; the forwarder and the files go by the whole one.
    if (request.originalUrl !== undefined) request.url = request.originalUrl;
    this.proxy(request, response, () => this.assets(request, response, next));
  }
}
