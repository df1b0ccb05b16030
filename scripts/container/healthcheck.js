#!/usr/bin/env node
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run by node alone in the container */
/**
 * Container health check: exit 0 when this service answers `GET /health/ready`
 * with 200, 1 otherwise. Plain JavaScript with no dependency (the runtime image
 * has neither curl nor wget). The port is HTTP_PORT, else the service's default;
 * with TLS_CERT_FILE set the service speaks HTTPS (its own certificate, maybe
 * self-signed, is not checked: this is a loopback liveness probe).
 */
const DEFAULT_PORTS = { scheduler: 3000, registry: 3001, worker: 3002 };
const app = process.env.APP ?? 'scheduler';
const port = Number(process.env.HTTP_PORT?.trim() || DEFAULT_PORTS[app] || 3000);
const path = process.argv[2] ?? '/health/ready';
const tls = Boolean(process.env.TLS_CERT_FILE?.trim());
const http = require('node:http');
const https = require('node:https');
const { request } = tls ? https : http;

const req = request(
  { host: '127.0.0.1', port, path, timeout: 4_000, rejectUnauthorized: false },
  (response) => {
    response.resume();
    process.exit(response.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
