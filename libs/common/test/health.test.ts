import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AppConfigModule,
  ConfigValidationError,
  HealthModule,
  httpAdapter,
  initHttpApplication,
  ReadinessRegistry,
  type ServiceDescriptor,
} from '@app/common';

const SERVICE: ServiceDescriptor = { name: 'worker', defaultHttpPort: 3002 };

describe('ReadinessRegistry', () => {
  it('refuses a duplicate or malformed name, and unregisters only its own check', () => {
    const registry = new ReadinessRegistry();
    const unregister = registry.register('zookeeper', () => true);
    expect(() => registry.register('zookeeper', () => true)).toThrow(/already registered/);
    expect(() => registry.register('Bad Name', () => true)).toThrow(/must match/);
    unregister();
    expect(registry.names()).toEqual([]);
    registry.register('zookeeper', () => false);
    unregister(); // stale: must not remove the new registration
    expect(registry.names()).toEqual(['zookeeper']);
  });
});

describe('GET /health/ready', () => {
  let app: INestApplication;
  let readiness: ReadinessRegistry;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(SERVICE), HealthModule],
    }).compile();
    app = moduleRef.createNestApplication(httpAdapter(), { logger: false });
    await initHttpApplication(app);
    readiness = app.get(ReadinessRegistry);
  });

  afterAll(() => app?.close());

  it('is 200 while every registered check passes', async () => {
    const off = [
      readiness.register('zookeeper', () => true),
      readiness.register('postgres', async () => true),
    ];
    const res = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(res.body.details).toMatchObject({
      zookeeper: { status: 'up' },
      postgres: { status: 'up' },
    });
    off.forEach((unregister) => unregister());
  });

  it('is 503 naming each failing check, while /health/live stays 200', async () => {
    const off = [
      readiness.register('zookeeper', () => false),
      readiness.register('postgres', () => Promise.reject(new Error('connection refused'))),
      readiness.register('disk', () => true),
    ];
    const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(res.body).toMatchObject({
      status: 'error',
      error: {
        zookeeper: { status: 'down', message: 'not ready' },
        postgres: { status: 'down', message: 'connection refused' },
      },
      info: { disk: { status: 'up' } },
    });
    await request(app.getHttpServer()).get('/health/live').expect(200);
    off.forEach((unregister) => unregister());
  });
});

describe('AppConfigModule', () => {
  afterEach(() => {
    delete process.env.ZK_SESSION_TIMEOUT_MS;
  });

  it('fails application creation with the validation error, not at import', async () => {
    process.env.ZK_SESSION_TIMEOUT_MS = 'abc';
    const compiling = Test.createTestingModule({
      imports: [AppConfigModule.forRoot(SERVICE)],
    }).compile();
    await expect(compiling).rejects.toThrow(ConfigValidationError);
    await expect(compiling).rejects.toThrow(/ZK_SESSION_TIMEOUT_MS/);
  });
});
