import { randomUUID } from 'node:crypto';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  AppConfig,
  AppConfigModule,
  HealthModule,
  httpAdapter,
  prepareApplication,
  type BootstrapOptions,
} from '@app/common';
import { PROTO_LOADER_OPTIONS, SCHEDULER_PROTO_PATH } from '@app/contracts/proto';
import { ZkClient } from '@app/zk';
import { freePort, type TestingServer } from '@app/zk/testing';
import { AuditDatabase } from '@app/audit';
import { createTestDatabase } from '@app/audit/testing';
import { ApiModule } from '../../../src/api/api.module';
import { SCHEDULER_API_BOOTSTRAP } from '../../../src/api/api-bootstrap';
import { SCHEDULER_SERVICE } from '../../../src/scheduler.module';
import { ERRORS_TRAILER } from '../../../src/api/grpc/grpc-exception.filter';

/** A year for valid one-off times: runAt may be at most a year ahead (its 1 January always is). */
export const NEXT_YEAR = new Date().getUTCFullYear() + 1;

/** ApiModule with what it needs from the application and nothing else (no leader). */
@Module({ imports: [AppConfigModule.forRoot(SCHEDULER_SERVICE), HealthModule, ApiModule] })
export class ApiOnlyModule {}

export interface ApiApp {
  app: INestApplication;
  /** For supertest: `request(api.http)`. */
  http: ReturnType<INestApplication['getHttpServer']>;
  grpcPort: number;
  root: string;
  /** A second session on the same root, to look at ZooKeeper directly. */
  zk: ZkClient;
  close(): Promise<void>;
}

export interface ApiAppOptions {
  module?: Type<unknown>;
  grpc?: boolean;
  env?: Record<string, string>;
  /** The task history's database; default a fresh one on the shared server (dropped by close). */
  databaseUrl?: string;
}

/**
 * The API on a fresh ZK_ROOT of `server`, prepared exactly as main.ts does it
 * (body limit, OpenAPI, gRPC on a free port) but not listening: supertest
 * drives the HTTP server directly.
 */
export async function startApiApp(
  server: TestingServer,
  options: ApiAppOptions = {},
): Promise<ApiApp> {
  const root = `/api-${randomUUID()}`;
  const grpcPort = await freePort();
  // The task history (reads of retired tasks): a fresh database on the shared server.
  const database =
    options.databaseUrl === undefined
      ? await createTestDatabase('zk_api')
      : { url: options.databaseUrl, drop: () => Promise.resolve() };
  const saved = { ...process.env };
  Object.assign(process.env, {
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    ZK_CONNECT: server.connectString,
    ZK_ROOT: root,
    ZK_SESSION_TIMEOUT_MS: '2000',
    HTTP_PORT: '0',
    GRPC_PORT: String(grpcPort),
    MEMBER_ID: 'api-test',
    ...options.env,
  });
  let app: INestApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [options.module ?? ApiOnlyModule],
    }).compile();
    app = moduleRef.createNestApplication(httpAdapter(SCHEDULER_API_BOOTSTRAP), { logger: false });
    const bootstrap: BootstrapOptions = options.grpc
      ? SCHEDULER_API_BOOTSTRAP
      : { ...SCHEDULER_API_BOOTSTRAP, grpc: undefined };
    await prepareApplication(app, app.get(AppConfig), bootstrap);
    await app.get(AuditDatabase).whenReady();
  } catch (error) {
    await app?.close();
    await database.drop();
    throw error;
  } finally {
    process.env = saved;
  }
  const zk = new ZkClient({ connectString: server.connectString, root, sessionTimeoutMs: 2_000 });
  await zk.start();
  const started = app;
  return {
    app: started,
    http: started.getHttpServer(),
    grpcPort,
    root,
    zk,
    close: async () => {
      await zk.close();
      await started.close();
      await database.drop();
    },
  };
}

type Unary = (
  request: object,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;

export interface GrpcFailure {
  code: grpc.status;
  details: string;
  /** The `errors-bin` trailer, parsed. */
  errors: Array<{ field: string; reason: string }>;
}

/** A promise-based client of SchedulerService, loaded from the same .proto file. */
export class SchedulerClient {
  private readonly client: grpc.Client;

  constructor(port: number, credentials = grpc.credentials.createInsecure()) {
    const definition = protoLoader.loadSync(SCHEDULER_PROTO_PATH, PROTO_LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      zkscheduler: { scheduler: { v1: { SchedulerService: grpc.ServiceClientConstructor } } };
    };
    const Service = loaded.zkscheduler.scheduler.v1.SchedulerService;
    this.client = new Service(`127.0.0.1:${port}`, credentials);
  }

  /** `method` as in the .proto file: `CreateJob`. */
  call<T>(method: string, request: object, metadata = new grpc.Metadata()): Promise<T> {
    const unary = (this.client as unknown as Record<string, Unary>)[method];
    return new Promise((resolve, reject) => {
      unary.call(this.client, request, metadata, (error, response) =>
        error ? reject(error) : resolve(response as T),
      );
    });
  }

  /** The status of a call expected to fail. */
  async failure(
    method: string,
    request: object,
    metadata = new grpc.Metadata(),
  ): Promise<GrpcFailure> {
    try {
      await this.call(method, request, metadata);
    } catch (error) {
      const failure = error as grpc.ServiceError;
      const trailer = failure.metadata?.get(ERRORS_TRAILER)[0];
      return {
        code: failure.code,
        details: failure.details,
        errors: trailer ? (JSON.parse(trailer.toString()) as GrpcFailure['errors']) : [],
      };
    }
    throw new Error(`${method} succeeded`);
  }

  close(): void {
    this.client.close();
  }
}
