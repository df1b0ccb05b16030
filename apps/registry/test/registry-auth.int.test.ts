/**
 * The registry's doors with tokens configured (and ZK_AUTH on): the cluster
 * view, the audit history and the live stream over HTTP, and GetCluster over
 * gRPC, refuse callers without a valid token; a reader token may read; health
 * stays open.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { TestingServer, timing } from '@app/zk/testing';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import { RegistryClient, startRegistryApp, type RegistryApp } from './support/registry-app';

const READER = 'reader-token-0123456789abcdef';

let server: TestingServer;
let database: TestDatabase;
let registry: RegistryApp;
let grpc: RegistryClient;

beforeAll(async () => {
  [server, database] = await Promise.all([
    TestingServer.start(),
    createTestDatabase('zk_registry_auth'),
  ]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'zks-tokens-')), 'tokens.json');
  writeFileSync(file, JSON.stringify([{ name: 'grafana', role: 'reader', token: READER }]));
  registry = await startRegistryApp(server, {
    databaseUrl: database.url,
    grpc: true,
    env: { API_TOKENS_FILE: file, ZK_AUTH: 'zk-scheduler:registry-test' },
  });
  grpc = new RegistryClient(registry.grpcPort);
}, timing.ms(60_000));

afterAll(async () => {
  grpc?.client.close();
  await registry?.close();
  await database?.drop();
  await server?.close();
});

type UnaryWithMetadata = (
  request: object,
  metadata: Metadata,
  callback: (error: ServiceError | null) => void,
) => void;

function getCluster(metadata: Metadata): Promise<ServiceError | null> {
  const unary = (grpc.client as unknown as Record<string, UnaryWithMetadata>).GetCluster;
  return new Promise((resolve) => unary.call(grpc.client, {}, metadata, (error) => resolve(error)));
}

describe('registry API with tokens', () => {
  it('refuses every read without a valid token (401) and serves a reader token', async () => {
    for (const route of [
      '/v1/cluster',
      '/v1/audit',
      '/v1/events',
      '/v1/access',
      '/v1/task-rates',
    ]) {
      const anonymous = await fetch(registry.url(route));
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({
        statusCode: 401,
        errors: [{ field: 'authorization' }],
      });
      const wrong = await fetch(registry.url(route), {
        headers: { authorization: 'Bearer not-the-token-000000' },
      });
      expect(wrong.status).toBe(401);
    }
    for (const route of ['/v1/cluster', '/v1/audit', '/v1/task-rates']) {
      const read = await fetch(registry.url(route), {
        headers: { authorization: `Bearer ${READER}` },
      });
      expect(read.status).toBe(200);
    }
    expect((await fetch(registry.url('/health/ready'))).status).toBe(200);
  });

  it('tells a token its role (GET /v1/access), and serves the console files to anyone', async () => {
    const access = await fetch(registry.url('/v1/access'), {
      headers: { authorization: `Bearer ${READER}` },
    });
    expect(await access.json()).toEqual({
      tokensRequired: true,
      role: 'reader',
      tokenName: 'grafana',
    });
    // The files hold no data; the console asks for a token before any call.
    expect((await fetch(registry.url('/'))).status).not.toBe(401);
  });

  it('answers GetCluster UNAUTHENTICATED without a token, and serves a reader', async () => {
    expect((await getCluster(new Metadata()))?.code).toBe(status.UNAUTHENTICATED);
    const reader = new Metadata();
    reader.set('authorization', `Bearer ${READER}`);
    expect(await getCluster(reader)).toBeNull();
  });
});
