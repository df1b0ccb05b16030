/**
 * Keyset pagination of `GET /v1/audit` while the drain keeps storing new rows:
 * walking the pages returns every row once, in order, including the rows
 * stored during the walk.
 */
import request from 'supertest';
import type { ZkClient } from '@app/zk';
import { TestingServer, timing } from '@app/zk/testing';
import { createTestDatabase, type TestDatabase } from '@app/audit/testing';
import type { AuditEvent } from '@app/contracts';
import type { AuditPageView } from '@app/contracts/dto/registry-api';
import { fillOutbox, outboxDepth } from './support/outbox-fixtures';
import { startRegistryApp, zkSession, type RegistryApp } from './support/registry-app';

let server: TestingServer;
let database: TestDatabase;
let registry: RegistryApp;
let zk: ZkClient;

beforeAll(async () => {
  [server, database] = await Promise.all([TestingServer.start(), createTestDatabase('zk_pages')]);
  registry = await startRegistryApp(server, { databaseUrl: database.url });
  zk = await zkSession(server, registry.root);
}, timing.ms(60_000));

afterAll(async () => {
  await zk?.close();
  await registry?.close();
  await database?.drop();
  await server?.close();
});

it('walks every row once, in order, while new rows keep arriving', async () => {
  const written: AuditEvent[] = await fillOutbox(zk, 100, 4);
  await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'first rows stored' });

  // A writer keeps adding outbox nodes (the drain stores them) during the whole walk.
  let writing = true;
  const writer = (async () => {
    while (writing) {
      written.push(...(await fillOutbox(zk, 3, 3)));
      await timing.sleep(10);
    }
  })();

  const walked: AuditPageView['items'] = [];
  let cursor: string | undefined;
  let pages = 0;
  let emptyAfterStop = false;
  while (!emptyAfterStop) {
    const page = (
      await request(registry.app.getHttpServer())
        .get('/v1/audit')
        .query({ limit: 37, ...(cursor ? { cursor } : {}) })
        .expect(200)
    ).body as AuditPageView;
    pages += 1;
    walked.push(...page.items);
    if (page.items.length > 0) cursor = page.items[page.items.length - 1].seq;
    if (page.nextCursor !== null) {
      expect(page.nextCursor).toBe(cursor);
      continue;
    }
    // The end for now: stop the writer after a while, then walk on until the drain is done.
    if (pages > 30 && writing) {
      writing = false;
      await writer;
      await timing.waitFor(async () => (await outboxDepth(zk)) === 0, { message: 'all stored' });
      continue;
    }
    if (!writing && page.items.length === 0) emptyAfterStop = true;
    else await timing.sleep(20);
  }

  const seqs = walked.map((row) => BigInt(row.seq));
  expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1])).toBe(true);
  expect(walked.map((row) => row.id)).toEqual(written.map((event) => event.id));
  expect(written.length).toBeGreaterThan(400 + 30);
});
