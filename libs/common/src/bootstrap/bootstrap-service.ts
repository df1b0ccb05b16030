import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type GrpcOptions, type MicroserviceOptions } from '@nestjs/microservices';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig, type ServiceDescriptor } from '../config/app-config';
import { ConfigValidationError, loadAppConfig } from '../config/load-app-config';
import { loadApiAuthSettings } from '../auth/api-auth-settings';
import { limitHeapGrowth } from './heap-growth';
import { ALL_INTERFACES, httpAdapter, initHttpApplication } from './http-adapter';
import { grpcServerCredentials, loadTlsSettings } from './tls-settings';

/** A gRPC API served on GRPC_PORT (BIND_HOST, default all interfaces) beside HTTP: a hybrid application. */
export type GrpcServiceOptions = Omit<GrpcOptions['options'], 'url'>;

export interface OpenApiOptions {
  title: string;
  description?: string;
  version: string;
  /** The UI path; the JSON document is at `<path>-json`. Default `docs`. */
  path?: string;
}

/** What a service adds to the plain HTTP application. Every part is optional. */
export interface BootstrapOptions {
  grpc?: GrpcServiceOptions;
  openApi?: OpenApiOptions;
  /**
   * Largest request body in bytes (a bigger one is answered 413); default
   * DEFAULT_JSON_BODY_LIMIT_BYTES. Applied by `httpAdapter(options)`, which
   * creates the application (bootstrapService, test harnesses).
   */
  jsonBodyLimitBytes?: number;
}

/**
 * Applies `options` to an application that is not initialised yet (created
 * on `httpAdapter(options)`): the OpenAPI document, and the gRPC microservice (connected,
 * started after `init()`). Used by bootstrapService and by tests that build
 * the application themselves, so both run the same setup.
 */
export async function prepareApplication(
  app: INestApplication,
  config: AppConfig,
  options: BootstrapOptions,
): Promise<void> {
  if (options.openApi) setupOpenApi(app, options.openApi);
  if (options.grpc) {
    if (config.grpcPort === undefined) {
      throw new Error(`${config.service} has no GRPC_PORT: it cannot serve gRPC`);
    }
    app.connectMicroservice<MicroserviceOptions>(
      {
        transport: Transport.GRPC,
        options: {
          ...options.grpc,
          url: config.grpcListenAddress(config.grpcPort),
          // TLS_CERT_FILE / TLS_KEY_FILE: the same certificate as HTTPS.
          credentials: grpcServerCredentials(loadTlsSettings(process.env)),
        },
      },
      // The microservice keeps its own (empty) global pipes and filters: gRPC
      // handlers bind theirs explicitly, the HTTP ones do not fit there.
      { inheritAppConfig: false },
    );
  }
  await initHttpApplication(app);
  if (options.grpc) await app.startAllMicroservices();
}

/** Serves the OpenAPI UI at `/<path>` and the document at `/<path>-json`. */
export function setupOpenApi(app: INestApplication, options: OpenApiOptions): void {
  SwaggerModule.setup(options.path ?? 'docs', app, openApiDocument(app, options));
}

/** The OpenAPI document of an application's HTTP routes (also written by `npm run openapi`). */
export function openApiDocument(app: INestApplication, options: OpenApiOptions): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle(options.title)
    .setVersion(options.version)
    // The UI's "Authorize" button: needed when API_TOKEN / API_TOKENS_FILE is set.
    .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'bearer')
    .addSecurityRequirements('bearer');
  if (options.description) builder.setDescription(options.description);
  return SwaggerModule.createDocument(app, builder.build());
}

/**
 * Starts one service process: validates the environment (a wrong value exits
 * with code 1 and a message naming the variable), creates the application with
 * the pino logger, enables shutdown hooks (SIGTERM/SIGINT close the app, so
 * `onApplicationShutdown` hooks run), applies `options` (gRPC, OpenAPI, body
 * limit) and listens on HTTP_PORT.
 *
 * Any startup failure exits the process with code 1; it never leaves a
 * half-started service behind.
 */
export async function bootstrapService(
  module: Type<unknown>,
  service: ServiceDescriptor,
  options: BootstrapOptions = {},
): Promise<INestApplication> {
  // Checked before Nest starts so that the message is the only output. The
  // AppConfigModule validates the same environment again inside the container.
  let tls: ReturnType<typeof loadTlsSettings>;
  try {
    limitHeapGrowth(loadAppConfig(process.env, service).heapGrowthPercent);
    loadApiAuthSettings(process.env);
    tls = loadTlsSettings(process.env);
  } catch (error) {
    return fail(service, error);
  }

  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(module, httpAdapter({ ...options, tls }), {
      bufferLogs: true,
      abortOnError: false,
    });
    const logger = app.get(Logger);
    app.useLogger(logger);
    app.enableShutdownHooks();
    const config = app.get(AppConfig);
    await prepareApplication(app, config, options);
    await app.listen(config.httpPort, config.bindHost ?? ALL_INTERFACES);
    const grpc = options.grpc
      ? `, gRPC${tls ? ' (TLS)' : ''} on ${config.grpcListenAddress(config.grpcPort ?? 0)}`
      : '';
    logger.log(
      `${service.name} listening on ${await app.getUrl()}${grpc} (pid ${process.pid})`,
      'Bootstrap',
    );
    return app;
  } catch (error) {
    await app?.close().catch(() => undefined);
    return fail(service, error);
  }
}

function fail(service: ServiceDescriptor, error: unknown): never {
  const detail =
    error instanceof ConfigValidationError
      ? error.message
      : `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  process.stderr.write(`${service.name}: ${detail}\n`);
  process.exit(1);
}
