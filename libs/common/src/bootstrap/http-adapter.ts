import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BAD_PATH_ERROR_BODY } from '../api/errors/api-http-exception.filter';

/** The JSON body limit of a service that sets none (Express's default, which the API was built with). */
export const DEFAULT_JSON_BODY_LIMIT_BYTES = 100 * 1024;

/**
 * The HTTP server of every service: Nest on Fastify. Chosen by measure: on
 * this machine kind a JSON POST through Nest cost ~230 µs of CPU on Express
 * and ~36 µs on Fastify, and the scheduler's job creation ran 1.6× faster
 * (bench/README.md). One place builds it, so services and the tests that
 * build their applications serve HTTP the same way.
 */
export function httpAdapter(
  options: { jsonBodyLimitBytes?: number; tls?: { cert: Buffer; key: Buffer } } = {},
): FastifyAdapter {
  const settings = {
    bodyLimit: options.jsonBodyLimitBytes ?? DEFAULT_JSON_BODY_LIMIT_BYTES,
    // Bodies parse as JSON.parse does: a key named "__proto__" or "constructor" is an
    // ordinary one, which validation refuses (__proto__) or keeps, naming the field.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // Ids in paths are checked by the API (400 naming the field), not cut at Fastify's 100 (414).
    routerOptions: { maxParamLength: 1024 },
    // A path Fastify cannot decode is answered before routing: in the API's error shape.
    frameworkErrors: answerBadPath,
  } as const;
  return options.tls === undefined
    ? new FastifyAdapter(settings)
    : new FastifyAdapter({ ...settings, https: { cert: options.tls.cert, key: options.tls.key } });
}

function answerBadPath(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') void reply.code(400).send(BAD_PATH_ERROR_BODY);
  else void reply.send(error);
}

/** Every interface, IPv6 and IPv4 (Fastify's own default is localhost only). */
export const ALL_INTERFACES = '::';

/**
 * Nest's `init()`, then Fastify's `ready()`: a server that has not listened
 * (a test's supertest) answers only once Fastify is ready; `listen()` does both.
 */
export async function initHttpApplication(app: INestApplication): Promise<void> {
  await app.init();
  await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
}
