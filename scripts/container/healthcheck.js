#!/usr/bin/env node
'use strict';
/**
 * Container health check: exit 0 when this service answers `GET /health/ready`
 * with 200, 1 otherwise. Plain JavaScript with no dependency (the runtime image
 * has neither curl nor wget). The port is HTTP_PORT, else the service's default.
 */
const DEFAULT_PORTS = { scheduler: 3000, registry: 3001, worker: 3002 };
const app = process.env.APP ?? 'scheduler';
const port = Number(process.env.HTTP_PORT?.trim() || DEFAULT_PORTS[app] || 3000);
const path = process.argv[2] ?? '/health/ready';

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4_000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
