/**
 * TLS_CERT_FILE / TLS_KEY_FILE: HTTPS from bootstrapService and gRPC over TLS
 * from prepareApplication, with a throwaway self-signed certificate; a
 * plaintext client gets nothing.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Module, type INestApplication } from '@nestjs/common';
import { credentials, status } from '@grpc/grpc-js';
import {
  AppConfigModule,
  HealthModule,
  LoggingModule,
  bootstrapService,
  type ServiceDescriptor,
} from '@app/common';
import { TestingServer, timing } from '@app/zk/testing';
import { selfSignedCertificate } from '../../../../test/support/self-signed-certificate';
import { SchedulerClient, startApiApp, type ApiApp } from './support/api-app';

const { certFile, keyFile, cert: ca } = selfSignedCertificate();
const TLS_ENV = { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile };

const SERVICE: ServiceDescriptor = { name: 'scheduler', defaultHttpPort: 0 };

@Module({ imports: [AppConfigModule.forRoot(SERVICE), LoggingModule, HealthModule] })
class HealthOnlyModule {}

function status200(get: typeof httpsGet | typeof httpGet, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(url, { ca, timeout: 5_000 } as object, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
  });
}

describe('TLS', () => {
  let app: INestApplication | undefined;
  const saved = { ...process.env };

  afterAll(async () => {
    process.env = saved;
    await app?.close();
  });

  it('serves HTTPS with the configured certificate, and no plaintext HTTP', async () => {
    Object.assign(process.env, {
      ...TLS_ENV,
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
      ZK_ROOT: '/tls',
    });
    app = await bootstrapService(HealthOnlyModule, SERVICE);
    const port = (app.getHttpServer().address() as { port: number }).port;
    await expect(status200(httpsGet, `https://localhost:${port}/health/live`)).resolves.toBe(200);
    await expect(status200(httpGet, `http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  });
});

describe('gRPC over TLS', () => {
  let server: TestingServer;
  let api: ApiApp;

  beforeAll(async () => {
    server = await TestingServer.start();
    api = await startApiApp(server, { grpc: true, env: TLS_ENV });
  }, timing.ms(60_000));

  afterAll(async () => {
    await api?.close();
    await server?.close();
  });

  it('answers a TLS client that trusts the certificate, and refuses a plaintext one', async () => {
    const secure = new SchedulerClient(api.grpcPort, credentials.createSsl(ca));
    const plain = new SchedulerClient(api.grpcPort);
    try {
      await expect(secure.call('ListJobs', {})).resolves.toMatchObject({ items: [] });
      expect((await plain.failure('ListJobs', {})).code).toBe(status.UNAVAILABLE);
    } finally {
      secure.close();
      plain.close();
    }
  });
});
