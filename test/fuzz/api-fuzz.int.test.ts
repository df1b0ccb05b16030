import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  PROTO_LOADER_OPTIONS,
  REGISTRY_PROTO_PATH,
  SCHEDULER_PROTO_PATH,
} from '@app/contracts/proto';
import { MAX_REQUEST_BYTES } from '@app/contracts/dto/scheduler-api';
import { TestingServer, freePort, timing } from '@app/zk/testing';
import type { AppProcess } from '../support/app-process';
import { LocalCluster } from '../support/local-cluster';
import {
  BAD_CRONS,
  BAD_TIME_ZONES,
  GARBAGE_BODIES,
  ODD_STRINGS,
  POLLUTION_JSON,
  badFieldValue,
  badId,
  badQuery,
  randomValue,
} from './fuzz-inputs';
import { Rng } from '../support/rng';

/** A valid one-off time: runAt may be at most a year ahead. */
const RUN_AT = `${new Date().getUTCFullYear() + 1}-01-01T00:00:00Z`;

/**
 * Issue 6, "bad input": thousands of generated malformed requests against a
 * real scheduler and registry (real ZooKeeper and PostgreSQL), on every HTTP
 * route and every gRPC method. Each must get a 2xx/4xx (gRPC: a status other
 * than INTERNAL/UNKNOWN), the processes must stay up and ready, and nothing may
 * reach Object.prototype. The inputs come from one seeded PRNG: the seed is
 * printed, and `FUZZ_SEED=<seed>` replays a run. Seeds that once found a bug
 * stay below as regression runs.
 */

jest.setTimeout(120_000);

/**
 * Seeds that found a bug once: 3 (`"constructor": null` in a body was a 500);
 * 267229189 (a 70,000-character label key came back in the gRPC trailers,
 * over the client's header limit: its connection dropped, failing every call on it);
 * 960445455 (a lone surrogate in a gRPC error message: grpc-js's encodeURI of
 * `grpc-message` threw outside any handler and the scheduler died);
 * 1331219958 (an idempotency key with a NUL: the history lookup failed, a 500).
 */
const REGRESSION_SEEDS: readonly number[] = [3, 267229189, 960445455, 1331219958];
const HTTP_REQUESTS = 2_000;
const GRPC_CALLS = 600;
const RAW_GRPC_CALLS = 100;
const CONCURRENCY = 16;

let server: TestingServer;
let cluster: LocalCluster;
let scheduler: AppProcess;
let registry: AppProcess;
let schedulerGrpcPort: number;
let registryGrpcPort: number;

beforeAll(async () => {
  server = await TestingServer.start();
  // A key, so that valid webhook requests reach PostgreSQL (without one they are a 503).
  cluster = new LocalCluster({
    connectString: server.connectString,
    env: { WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') },
  });
  schedulerGrpcPort = await freePort();
  registryGrpcPort = await freePort();
  [scheduler, registry] = await Promise.all([
    cluster.start('scheduler', { LOG_LEVEL: 'error', GRPC_PORT: String(schedulerGrpcPort) }),
    cluster.start('registry', { LOG_LEVEL: 'error', GRPC_PORT: String(registryGrpcPort) }),
  ]);
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await server?.close();
});

// ---- HTTP ---------------------------------------------------------------------------

interface HttpCase {
  target: AppProcess;
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

interface Outcome {
  status: number;
  body: string;
}

/** Raw http.request: the path goes out exactly as generated (fetch would normalise it). */
function send(c: HttpCase): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let answered: Outcome | undefined;
    const fail = (error: Error): void => {
      // The server may answer (413, 415, 400) without reading a body it will not
      // parse (too large, or not application/json), then close: our write fails
      // (EPIPE) before we read that answer, which is a refusal, not a crash.
      const unread =
        Buffer.byteLength(c.body ?? '') > MAX_REQUEST_BYTES || c.contentType !== 'application/json';
      if (answered) resolve(answered);
      else if (c.body !== undefined && unread && /EPIPE|ECONNRESET/.test(String(error)))
        // Counted apart in the statistics, as 499.
        resolve({ status: 499, body: 'refused before the body was read' });
      else reject(error);
    };
    const req = request(
      {
        host: '127.0.0.1',
        port: c.target.httpPort,
        method: c.method,
        path: c.path,
        headers: {
          ...(c.contentType ? { 'content-type': c.contentType } : {}),
          ...(c.body !== undefined ? { 'content-length': Buffer.byteLength(c.body) } : {}),
        },
        timeout: 2 * SLOW_MS,
        // A connection per request: a kept-alive socket the server is closing
        // as we reuse it fails with "socket hang up", a client-side race.
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (String(response.headers['content-type']).startsWith('text/event-stream')) {
          response.destroy(); // a live stream: its status is the answer
          resolve({ status, body: '' });
          return;
        }
        const outcome: Outcome = { status, body: '' };
        answered = outcome;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (outcome.body.length < 2_000) outcome.body += chunk;
        });
        response.on('end', () => resolve(outcome));
        response.on('error', fail);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${c.method} ${c.path.slice(0, 200)}`)));
    req.on('error', fail);
    if (c.body !== undefined) req.write(c.body);
    req.end();
  });
}

const JOB_FIELDS = [
  'name',
  'type',
  'payload',
  'schedule',
  'timezone',
  'runAt',
  'retry',
  'timeoutMs',
  'concurrency',
  'misfire',
  'selector',
  'parallelism',
  'paused',
];
const TASK_FIELDS = [
  'type',
  'payload',
  'runAt',
  'idempotencyKey',
  'retry',
  'timeoutMs',
  'selector',
  'parallelism',
];
const WEBHOOK_FIELDS = ['url', 'events', 'secret', 'filter'];
const VALID_WEBHOOK = { url: 'https://hooks.example.com/zks', events: ['task.failed'] };
const AUDIT_QUERY = ['jobId', 'taskId', 'workerId', 'type', 'since', 'until', 'cursor', 'limit'];

function validJob(rng: Rng): Record<string, unknown> {
  return {
    name: `fuzz-${rng.below(1e9)}`,
    type: 'noop',
    payload: {},
    ...(rng.chance(0.5) ? { schedule: '*/5 * * * *', timezone: 'UTC' } : { runAt: RUN_AT }),
  };
}

/** A valid body with 1–3 fields replaced, removed or added with bad values. */
function mutate(
  rng: Rng,
  body: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...body };
  for (let i = 1 + rng.below(3); i > 0; i--) {
    const field = rng.pick([...fields, rng.pick(ODD_STRINGS)]);
    if (rng.chance(0.15)) delete next[field];
    else if (field === 'retry')
      next.retry = {
        maxAttempts: badFieldValue(rng, 'maxAttempts'),
        backoffMs: badFieldValue(rng, 'backoffMs'),
      };
    else if (field === 'selector')
      next.selector = { labels: { [rng.pick(ODD_STRINGS)]: randomValue(rng) } };
    else if (field === 'schedule' && rng.chance(0.5)) next.schedule = rng.pick(BAD_CRONS);
    else if (field === 'timezone' && rng.chance(0.5)) next.timezone = rng.pick(BAD_TIME_ZONES);
    else next[field] = badFieldValue(rng, field);
  }
  return next;
}

function jsonBody(rng: Rng, build: () => unknown): string {
  const roll = rng.next();
  if (roll < 0.1) return rng.pick(GARBAGE_BODIES);
  if (roll < 0.17) return rng.pick(POLLUTION_JSON);
  return JSON.stringify(build());
}

function httpCase(rng: Rng): HttpCase {
  const contentType = rng.pick([
    'application/json',
    'application/json',
    'application/json',
    'text/plain',
    undefined,
    'application/json; charset=latin1',
  ]);
  const routes: Array<() => HttpCase> = [
    () => ({
      target: scheduler,
      method: 'POST',
      path: '/v1/jobs',
      contentType,
      body: jsonBody(rng, () => mutate(rng, validJob(rng), JOB_FIELDS)),
    }),
    () => ({
      target: scheduler,
      method: 'GET',
      path: `/v1/jobs?${badQuery(rng, ['cursor', 'limit'])}`,
    }),
    () => ({ target: scheduler, method: 'GET', path: `/v1/jobs/${badId(rng)}` }),
    () => ({
      target: scheduler,
      method: 'PATCH',
      path: `/v1/jobs/${badId(rng)}`,
      contentType,
      body: jsonBody(rng, () => mutate(rng, {}, JOB_FIELDS)),
    }),
    () => ({ target: scheduler, method: 'DELETE', path: `/v1/jobs/${badId(rng)}` }),
    () => ({ target: scheduler, method: 'POST', path: `/v1/jobs/${badId(rng)}/trigger` }),
    () => ({
      target: scheduler,
      method: 'POST',
      path: '/v1/tasks',
      contentType,
      body: jsonBody(rng, () =>
        mutate(rng, { type: 'noop', payload: {}, runAt: RUN_AT }, TASK_FIELDS),
      ),
    }),
    () => ({
      target: scheduler,
      method: 'POST',
      path: '/v1/tasks/batch',
      contentType,
      body: jsonBody(rng, () =>
        rng.chance(0.2)
          ? { tasks: randomValue(rng) }
          : {
              tasks: Array.from({ length: rng.pick([0, 1, 3, 1_001]) }, () =>
                mutate(rng, { type: 'noop', runAt: RUN_AT }, TASK_FIELDS),
              ),
            },
      ),
    }),
    () => ({
      target: scheduler,
      method: 'GET',
      path: `/v1/tasks?${badQuery(rng, ['jobId', 'state', 'cursor', 'limit'])}`,
    }),
    () => ({ target: scheduler, method: 'GET', path: `/v1/tasks/${badId(rng)}` }),
    () => ({ target: scheduler, method: 'POST', path: `/v1/tasks/${badId(rng)}/cancel` }),
    () => ({
      target: scheduler,
      method: rng.pick(['POST', 'PATCH']),
      path: rng.chance(0.5) ? '/v1/webhooks' : `/v1/webhooks/${badId(rng)}`,
      contentType,
      body: jsonBody(rng, () =>
        rng.chance(0.2)
          ? { ...VALID_WEBHOOK, filter: randomValue(rng) }
          : mutate(rng, { ...VALID_WEBHOOK }, WEBHOOK_FIELDS),
      ),
    }),
    () => ({
      target: scheduler,
      method: 'GET',
      path: `/v1/webhooks?${badQuery(rng, ['cursor', 'limit'])}`,
    }),
    () => ({
      target: scheduler,
      method: rng.pick(['GET', 'DELETE']),
      path: `/v1/webhooks/${badId(rng)}`,
    }),
    () => ({
      target: scheduler,
      method: 'GET',
      path: `/v1/webhooks/${badId(rng)}/deliveries?${badQuery(rng, ['cursor', 'limit'])}`,
    }),
    () => ({ target: scheduler, method: 'POST', path: `/v1/webhooks/${badId(rng)}/test` }),
    () => ({ target: registry, method: 'GET', path: `/v1/audit?${badQuery(rng, AUDIT_QUERY)}` }),
    () => ({
      target: registry,
      method: 'GET',
      path: `/v1/events?${badQuery(rng, AUDIT_QUERY.slice(0, 4))}`,
    }),
    () => ({ target: registry, method: 'GET', path: `/v1/cluster?${badQuery(rng, ['x'])}` }),
    () => ({
      target: scheduler,
      method: 'POST',
      path: '/v1/jobs/preview',
      contentType,
      body: jsonBody(rng, () =>
        mutate(rng, { schedule: '0 9 * * 1-5', timezone: 'Europe/Paris', count: 10 }, [
          'schedule',
          'timezone',
          'runAt',
          'count',
          'after',
        ]),
      ),
    }),
    () => ({
      target: registry,
      method: 'GET',
      path: `/v1/task-rates?${badQuery(rng, ['minutes'])}`,
    }),
    () => ({ target: registry, method: 'GET', path: `/v1/access?${badQuery(rng, ['x'])}` }),
    // The console's forwarder: the scheduler's answers, through the registry.
    () => ({
      target: registry,
      method: rng.pick(['GET', 'POST', 'PATCH', 'DELETE']),
      path: rng.pick([
        `/api/scheduler/v1/jobs/${badId(rng)}`,
        `/api/scheduler/v1/tasks?${badQuery(rng, ['jobId', 'state', 'cursor', 'limit'])}`,
        '/api/scheduler/v1/jobs/preview',
        `/api/scheduler/${badId(rng)}`,
      ]),
      contentType,
      body: jsonBody(rng, () => mutate(rng, validJob(rng), JOB_FIELDS)),
    }),
    () => ({
      target: rng.pick([scheduler, registry]),
      method: rng.pick(['GET', 'POST', 'PUT', 'DELETE']),
      path: rng.pick([
        '/health/ready',
        '/health/live',
        '/metrics',
        '/v1',
        '/v1/jobs/a/b/c',
        `/${badId(rng)}`,
        '/v1/jobs/%',
        '/v1/tasks/%E0%A4%A',
      ]),
    }),
  ];
  return rng.pick(routes)();
}

async function runPool<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

// ---- gRPC ------------------------------------------------------------------------------

type Unary = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null) => void,
) => void;

/** A call that takes longer is a problem of its own (a blocked event loop, a lost call). */
const SLOW_MS = 10_000;

function client(protoPath: string, pkg: string[], service: string, port: number): grpc.Client {
  const definition = protoLoader.loadSync(protoPath, PROTO_LOADER_OPTIONS);
  let node = grpc.loadPackageDefinition(definition) as unknown as Record<string, unknown>;
  for (const part of pkg) node = node[part] as Record<string, unknown>;
  const Service = node[service] as grpc.ServiceClientConstructor;
  return new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

const GRPC_STRINGS = [...ODD_STRINGS, ...BAD_CRONS, ...BAD_TIME_ZONES];
/** Without the longest strings: a batch of 1,001 tasks stays under the message limit. */
const SHORT_GRPC_STRINGS = GRPC_STRINGS.filter((text) => text.length <= 1_000);

function grpcString(rng: Rng, short = false): string {
  return rng.pick(short ? SHORT_GRPC_STRINGS : GRPC_STRINGS);
}

const pickString = grpcString;

function grpcInt(rng: Rng): number {
  return rng.pick([-1, 0, 1, 2 ** 31 - 1, -(2 ** 31), 1_001, 100_000]);
}

function grpcTask(rng: Rng, short = false): Record<string, unknown> {
  const grpcString = (r: Rng): string => pickString(r, short);
  return {
    type: rng.chance(0.5) ? 'noop' : grpcString(rng),
    payloadJson: rng.pick([
      ...GARBAGE_BODIES.slice(0, 13),
      ...POLLUTION_JSON,
      '{}',
      grpcString(rng),
    ]),
    runAt: rng.chance(0.5) ? grpcString(rng) : RUN_AT,
    ...(rng.chance(0.3) ? { idempotencyKey: grpcString(rng) } : {}),
    ...(rng.chance(0.3) ? { retry: { maxAttempts: grpcInt(rng), backoffMs: grpcInt(rng) } } : {}),
    ...(rng.chance(0.3) ? { timeoutMs: grpcInt(rng) } : {}),
    ...(rng.chance(0.3)
      ? { selector: { labels: { [grpcString(rng) || 'k']: grpcString(rng) } } }
      : {}),
    ...(rng.chance(0.3) ? { parallelism: grpcInt(rng) } : {}),
  };
}

function grpcJob(rng: Rng, id?: string): Record<string, unknown> {
  return {
    ...(id === undefined
      ? {}
      : {
          id,
          clearFields: [grpcString(rng), 'schedule', 'runAt', '__proto__'].slice(rng.below(4)),
        }),
    name: rng.chance(0.5) ? `fuzz-${rng.below(1e9)}` : grpcString(rng),
    ...grpcTask(rng),
    schedule: rng.chance(0.5) ? grpcString(rng) : '*/5 * * * *',
    timezone: grpcString(rng),
    concurrency: rng.pick(['allow', 'forbid', 'replace', grpcString(rng)]),
    misfire: rng.pick(['skip', 'fire_once', 'fire_all', grpcString(rng)]),
    ...(rng.chance(0.5) ? { paused: rng.chance(0.5) } : {}),
  };
}

function grpcWebhook(rng: Rng): Record<string, unknown> {
  return {
    url: rng.chance(0.5) ? VALID_WEBHOOK.url : grpcString(rng),
    events: rng.chance(0.5)
      ? [...VALID_WEBHOOK.events]
      : Array.from({ length: rng.below(10) }, () => grpcString(rng, true)),
    ...(rng.chance(0.5) ? { secret: grpcString(rng) } : {}),
    ...(rng.chance(0.5) ? { filter: { jobId: grpcString(rng), taskType: grpcString(rng) } } : {}),
  };
}

const BAD_GRPC_CODES = new Set([
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.UNAVAILABLE,
]);

// ---- the run -----------------------------------------------------------------------------

async function fuzz(seed: number): Promise<string[]> {
  const rng = new Rng(seed);
  const problems: string[] = [];
  const statuses = new Map<number, number>();

  const cases = Array.from({ length: HTTP_REQUESTS }, () => httpCase(rng));
  await runPool(cases, async (c) => {
    const started = Date.now();
    const outcome = await send(c).catch((error: unknown) => {
      // A request line past Node's header limit (16 KiB) is refused by the HTTP
      // parser with 431 and the socket closed, often before we finish writing.
      const refused = c.path.length > 16_000 && /ECONNRESET|EPIPE/.test(String(error));
      return { status: refused ? 431 : 0, body: String(error) };
    });
    statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
    if (Date.now() - started > SLOW_MS) {
      problems.push(`HTTP took ${Date.now() - started} ms: ${c.method} ${c.path.slice(0, 300)}`);
    }
    if (outcome.status < 200 || outcome.status >= 500) {
      problems.push(
        `HTTP ${outcome.status} (${Buffer.byteLength(c.body ?? '')} bytes, ${String(c.contentType)}) for ${c.method} ${c.path.slice(0, 300)} body=${(c.body ?? '').slice(0, 300)} → ${outcome.body.slice(0, 300)}`,
      );
    }
  });

  const schedulerClient = client(
    SCHEDULER_PROTO_PATH,
    ['zkscheduler', 'scheduler', 'v1'],
    'SchedulerService',
    schedulerGrpcPort,
  );
  const registryClient = client(
    REGISTRY_PROTO_PATH,
    ['zkscheduler', 'registry', 'v1'],
    'RegistryService',
    registryGrpcPort,
  );
  const methods: Array<[grpc.Client, string, () => unknown]> = [
    [schedulerClient, 'CreateJob', () => grpcJob(rng)],
    [schedulerClient, 'GetJob', () => ({ id: grpcString(rng) })],
    [schedulerClient, 'ListJobs', () => ({ cursor: grpcString(rng), limit: grpcInt(rng) })],
    [schedulerClient, 'UpdateJob', () => grpcJob(rng, grpcString(rng))],
    [schedulerClient, 'DeleteJob', () => ({ id: grpcString(rng) })],
    [schedulerClient, 'TriggerJob', () => ({ id: grpcString(rng) })],
    [schedulerClient, 'SubmitTask', () => grpcTask(rng)],
    [
      schedulerClient,
      'SubmitTasks',
      () => {
        const length = rng.pick([0, 1, 5, 1_001]);
        return { tasks: Array.from({ length }, () => grpcTask(rng, length > 5)) };
      },
    ],
    [schedulerClient, 'GetTask', () => ({ id: grpcString(rng) })],
    [
      schedulerClient,
      'ListTasks',
      () => ({
        jobId: grpcString(rng),
        state: grpcString(rng),
        cursor: grpcString(rng),
        limit: grpcInt(rng),
      }),
    ],
    [schedulerClient, 'CancelTask', () => ({ id: grpcString(rng) })],
    [schedulerClient, 'CreateWebhook', () => grpcWebhook(rng)],
    [schedulerClient, 'GetWebhook', () => ({ id: grpcString(rng) })],
    [schedulerClient, 'ListWebhooks', () => ({ cursor: grpcString(rng), limit: grpcInt(rng) })],
    [
      schedulerClient,
      'UpdateWebhook',
      () => ({ ...grpcWebhook(rng), id: grpcString(rng), clearFilter: rng.chance(0.3) }),
    ],
    [schedulerClient, 'DeleteWebhook', () => ({ id: grpcString(rng) })],
    [
      schedulerClient,
      'ListWebhookDeliveries',
      () => ({ id: grpcString(rng), cursor: grpcString(rng), limit: grpcInt(rng) }),
    ],
    [schedulerClient, 'TestWebhook', () => ({ id: grpcString(rng) })],
    [registryClient, 'GetCluster', () => ({})],
    [
      registryClient,
      'QueryAudit',
      () => ({
        jobId: grpcString(rng),
        taskId: grpcString(rng),
        workerId: grpcString(rng),
        type: grpcString(rng),
        since: grpcString(rng),
        until: grpcString(rng),
        cursor: grpcString(rng),
        limit: grpcInt(rng),
      }),
    ],
  ];
  const calls = Array.from({ length: GRPC_CALLS }, () => {
    const [target, method, build] = rng.pick(methods);
    return { target, method, request: build() };
  });
  // Every method at least once, whatever the seed.
  for (const [target, method, build] of methods) calls.push({ target, method, request: build() });
  await runPool(calls, async ({ target, method, request: body }) => {
    const unary = (target as unknown as Record<string, Unary>)[method];
    const started = Date.now();
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      unary.call(target, body, { deadline: started + SLOW_MS }, (failure) => resolve(failure)),
    );
    if (error?.code === grpc.status.DEADLINE_EXCEEDED) {
      problems.push(
        `gRPC ${method} took over ${SLOW_MS} ms: ${JSON.stringify(body).slice(0, 300)}`,
      );
    } else if (error && BAD_GRPC_CODES.has(error.code)) {
      problems.push(
        `gRPC ${method} → ${grpc.status[error.code]} ${error.details} for ${JSON.stringify(body).slice(0, 300)}`,
      );
    }
  });
  // Raw bytes as request messages: most decode to something (protobuf is
  // lenient), the rest fail in grpc-js before any handler, with the INTERNAL
  // "Error deserializing request" the gRPC spec prescribes for an unparsable
  // message; that one INTERNAL is accepted, no other.
  const raw = grpc.makeGenericClientConstructor({}, 'Raw');
  const rawClients = [
    [
      new raw(`127.0.0.1:${schedulerGrpcPort}`, grpc.credentials.createInsecure()),
      'scheduler.v1.SchedulerService',
      methods.filter(([target]) => target === schedulerClient),
    ],
    [
      new raw(`127.0.0.1:${registryGrpcPort}`, grpc.credentials.createInsecure()),
      'registry.v1.RegistryService',
      methods.filter(([target]) => target === registryClient),
    ],
  ] as const;
  const rawOutcomes = new Map<string, number>();
  for (let i = 0; i < RAW_GRPC_CALLS; i++) {
    const [rawClient, service, serviceMethods] = rng.pick(rawClients);
    const [, method] = rng.pick(serviceMethods);
    const bytes = Buffer.from(
      Array.from({ length: rng.pick([1, 5, 64, 4_096]) }, () => rng.below(256)),
    );
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      rawClient.makeUnaryRequest(
        `/zkscheduler.${service}/${method}`,
        (message: Buffer) => message,
        (message: Buffer) => message,
        bytes,
        { deadline: Date.now() + SLOW_MS },
        (failure) => resolve(failure),
      ),
    );
    const code = error ? grpc.status[error.code] : 'OK';
    rawOutcomes.set(code, (rawOutcomes.get(code) ?? 0) + 1);
    const parseFailure =
      error?.code === grpc.status.INTERNAL && error.details === 'Error deserializing request';
    if (error && BAD_GRPC_CODES.has(error.code) && !parseFailure) {
      problems.push(
        `gRPC ${method} (raw ${bytes.toString('hex').slice(0, 200)}) → ${grpc.status[error.code]} ${error.details}`,
      );
    }
  }
  for (const [rawClient] of rawClients) rawClient.close();
  // One message over the limit, alone on its own connection: refused as such.
  const oversized = client(
    SCHEDULER_PROTO_PATH,
    ['zkscheduler', 'scheduler', 'v1'],
    'SchedulerService',
    schedulerGrpcPort,
  );
  const tooLarge = await new Promise<grpc.ServiceError | null>((resolve) =>
    (oversized as unknown as Record<string, Unary>).SubmitTask.call(
      oversized,
      { type: 'noop', payloadJson: JSON.stringify('x'.repeat(MAX_REQUEST_BYTES + 1)) },
      { deadline: Date.now() + SLOW_MS },
      resolve,
    ),
  );
  oversized.close();
  if (tooLarge?.code !== grpc.status.RESOURCE_EXHAUSTED) {
    problems.push(
      `gRPC SubmitTask over the size limit → ${tooLarge ? grpc.status[tooLarge.code] : 'OK'}`,
    );
  }
  // The stream: a bad filter is refused, a good one opens (then we leave).
  const stream = (
    registryClient as unknown as Record<string, (r: unknown) => grpc.ClientReadableStream<unknown>>
  ).StreamEvents.call(registryClient, {
    lastEventId: grpcString(rng),
    type: grpcString(rng),
    jobId: grpcString(rng),
  });
  const streamError = await new Promise<grpc.ServiceError | undefined>((resolve) => {
    stream.on('error', (error: grpc.ServiceError) => resolve(error));
    stream.on('data', () => undefined);
    setTimeout(() => resolve(undefined), 500);
  });
  stream.cancel();
  if (streamError && BAD_GRPC_CODES.has(streamError.code)) {
    problems.push(`gRPC StreamEvents → ${grpc.status[streamError.code]} ${streamError.details}`);
  }
  schedulerClient.close();
  registryClient.close();

  for (const service of [scheduler, registry]) {
    if (problems.length > 0 || !service.isRunning) {
      // What the service said (errors only: LOG_LEVEL=error) helps to read the problems.
      problems.push(
        `${service.memberId} ${service.isRunning ? 'running' : 'EXITED'}; output tail: ${service.output.slice(-3_000)}`,
      );
    }
  }
  process.stdout.write(
    `api fuzz seed ${seed}: ${cases.length} HTTP requests (statuses ${JSON.stringify(Object.fromEntries(statuses))}), ${calls.length} gRPC calls, ${RAW_GRPC_CALLS} raw (${JSON.stringify(Object.fromEntries(rawOutcomes))}), ${problems.length} problems\n`,
  );
  return problems;
}

async function assertHealthy(): Promise<void> {
  for (const process of [scheduler, registry]) {
    expect(process.isRunning).toBe(true);
    await timing.waitFor(async () => (await fetch(process.url('/health/ready'))).status === 200, {
      timeoutMs: 10_000,
      message: `${process.memberId} is not ready after the fuzz run`,
    });
  }
  // Nothing reached Object.prototype: here, nor in the services (a fresh object they build).
  expect(({} as Record<string, unknown>).zksPolluted).toBeUndefined();
  for (const [process, path] of [
    [registry, '/v1/cluster'],
    [scheduler, '/health/ready'],
    [registry, '/health/ready'],
  ] as const) {
    const text = await (await fetch(process.url(path))).text();
    expect(text).not.toContain('zksPolluted');
  }
  const created = await cluster.api<Record<string, unknown>>(scheduler, 'POST', '/v1/tasks', {
    type: 'noop',
    runAt: RUN_AT,
  });
  expect(created.status).toBe(202);
  expect(JSON.stringify(created.body)).not.toContain('zksPolluted');
  const read = await cluster.api<Record<string, unknown>>(
    scheduler,
    'GET',
    `/v1/tasks/${String(created.body.id)}`,
  );
  expect(read.status).toBe(200);
  expect(read.body).not.toHaveProperty('zksPolluted');
  expect(read.body.type).toBe('noop');
}

const seed = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : Math.floor(Math.random() * 2 ** 31);

test(`malformed requests get 4xx, never 5xx; the services stay up and unpolluted (seed ${seed})`, async () => {
  const problems = await fuzz(seed);
  expect(problems).toEqual([]);
  await assertHealthy();
});

for (const regression of REGRESSION_SEEDS) {
  test(`regression seed ${regression}`, async () => {
    expect(await fuzz(regression)).toEqual([]);
    await assertHealthy();
  });
}
