import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AppConfig, httpAdapter, prepareApplication } from '@app/common';
import { ERRORS_TRAILER } from '@app/common/api';
import { AuditDatabase, AUDIT_STORE, type AuditStore } from '@app/audit';
import { PROTO_LOADER_OPTIONS, REGISTRY_PROTO_PATH } from '@app/contracts/proto';
import { ZkClient } from '@app/zk';
import { freePort, timing, type TestingServer } from '@app/zk/testing';
import { REGISTRY_API_BOOTSTRAP } from '../../src/api/registry-api-bootstrap';
import { AuditDrainService } from '../../src/audit-drain/audit-drain.service';
import { RegistryModule } from '../../src/registry.module';

export interface RegistryApp {
  app: INestApplication;
  memberId: string;
  root: string;
  grpcPort: number;
  /** `http://127.0.0.1:<port><path>` of the listening app. */
  url(path: string): string;
  drain: AuditDrainService;
  store: AuditStore;
  close(): Promise<void>;
}

export interface RegistryAppOptions {
  /** ZK_ROOT; default a fresh one. Replicas of one cluster share it. */
  root?: string;
  databaseUrl: string;
  memberId?: string;
  grpc?: boolean;
  /** More environment (REGISTRY_* settings). */
  env?: Record<string, string>;
}

/**
 * The registry application in this process, prepared as main.ts does it
 * (OpenAPI, gRPC on a free port when asked) and listening on a free HTTP port
 * (live streams are read with fetch). Resolves once PostgreSQL is connected.
 */
export async function startRegistryApp(
  server: TestingServer,
  options: RegistryAppOptions,
): Promise<RegistryApp> {
  const root = options.root ?? `/registry-${randomUUID()}`;
  const memberId = options.memberId ?? `registry-${randomUUID().slice(0, 8)}`;
  const grpcPort = await freePort();
  const saved = { ...process.env };
  Object.assign(process.env, {
    LOG_LEVEL: 'silent',
    ZK_CONNECT: server.connectString,
    ZK_ROOT: root,
    ZK_SESSION_TIMEOUT_MS: '2000',
    HTTP_PORT: '0',
    GRPC_PORT: String(grpcPort),
    MEMBER_ID: memberId,
    DATABASE_URL: options.databaseUrl,
    ...options.env,
  });
  let app: INestApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [RegistryModule] }).compile();
    app = moduleRef.createNestApplication(httpAdapter(REGISTRY_API_BOOTSTRAP), { logger: false });
    app.enableShutdownHooks();
    const bootstrap = options.grpc
      ? REGISTRY_API_BOOTSTRAP
      : { ...REGISTRY_API_BOOTSTRAP, grpc: undefined };
    await prepareApplication(app, app.get(AppConfig), bootstrap);
    await app.listen(0, '127.0.0.1');
    await timing.withTimeout(app.get(AuditDatabase).whenReady(), 30_000, 'PostgreSQL connected');
  } catch (error) {
    await app?.close();
    throw error;
  } finally {
    process.env = saved;
  }
  const started = app;
  const address = started.getHttpServer().address() as { port: number };
  return {
    app: started,
    memberId,
    root,
    grpcPort,
    url: (path) => `http://127.0.0.1:${address.port}${path}`,
    drain: started.get(AuditDrainService),
    store: started.get<AuditStore>(AUDIT_STORE),
    close: () => started.close(),
  };
}

/** A session of the test's own on a cluster root. */
export async function zkSession(server: TestingServer, root: string): Promise<ZkClient> {
  const zk = new ZkClient({ connectString: server.connectString, root, sessionTimeoutMs: 2_000 });
  await zk.start();
  return zk;
}

type Unary = (
  request: object,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;

export interface GrpcFailure {
  code: grpc.status;
  details: string;
  errors: Array<{ field: string; reason: string }>;
}

/** A promise-based client of RegistryService, loaded from the same .proto file. */
export class RegistryClient {
  readonly client: grpc.Client;

  constructor(port: number) {
    const definition = protoLoader.loadSync(REGISTRY_PROTO_PATH, PROTO_LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      zkscheduler: { registry: { v1: { RegistryService: grpc.ServiceClientConstructor } } };
    };
    const Service = loaded.zkscheduler.registry.v1.RegistryService;
    this.client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  call<T>(method: string, request: object): Promise<T> {
    const unary = (this.client as unknown as Record<string, Unary>)[method];
    return new Promise((resolve, reject) => {
      unary.call(this.client, request, (error, response) =>
        error ? reject(error) : resolve(response as T),
      );
    });
  }

  async failure(method: string, request: object): Promise<GrpcFailure> {
    try {
      await this.call(method, request);
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

  /** A server stream: `StreamEvents`. */
  stream<T>(method: string, request: object): grpc.ClientReadableStream<T> {
    const open = (
      this.client as unknown as Record<string, (r: object) => grpc.ClientReadableStream<T>>
    )[method];
    return open.call(this.client, request);
  }

  close(): void {
    this.client.close();
  }
}
