/**
 * `npm run openapi`: writes the OpenAPI documents of the scheduler and the
 * registry (what they serve at `/docs-json`) to docs/openapi/<service>.json.
 * The applications are created, not started, against a throwaway ZooKeeper
 * server (their ZooKeeper client connects while the application is built);
 * PostgreSQL is not needed (its connection is made in the background).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { httpAdapter, openApiDocument, type BootstrapOptions } from '@app/common';
import { TestingServer } from '@app/zk/testing';
import { SCHEDULER_API_BOOTSTRAP } from '../apps/scheduler/src/api/api-bootstrap';
import { SchedulerModule } from '../apps/scheduler/src/scheduler.module';
import { REGISTRY_API_BOOTSTRAP } from '../apps/registry/src/api/registry-api-bootstrap';
import { RegistryModule } from '../apps/registry/src/registry.module';

const OUT_DIR = join(__dirname, '..', 'docs', 'openapi');

async function write(
  name: string,
  module: Type<unknown>,
  options: BootstrapOptions,
): Promise<void> {
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(module, httpAdapter(options), {
      logger: false,
      abortOnError: false,
    });
    const document = openApiDocument(app, options.openApi!);
    const file = join(OUT_DIR, `${name}.json`);
    await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
    process.stdout.write(`wrote ${file}\n`);
  } finally {
    await app?.close();
  }
}

async function main(): Promise<void> {
  const zookeeper = await TestingServer.start();
  try {
    Object.assign(process.env, {
      ZK_CONNECT: zookeeper.connectString,
      ZK_ROOT: '/openapi',
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      LOG_LEVEL: 'silent',
      // Never reached: nothing here reads the history.
      DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:1/openapi',
    });
    await mkdir(OUT_DIR, { recursive: true });
    await write('scheduler', SchedulerModule, SCHEDULER_API_BOOTSTRAP);
    await write('registry', RegistryModule, REGISTRY_API_BOOTSTRAP);
  } finally {
    await zookeeper.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `openapi: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
