/**
 * Safe defaults of real service processes: BIND_HOST keeps the listeners on
 * the address given (a loopback-bound service is not reachable at another
 * address), a service with no token bound to every interface says so loudly
 * at start, and an empty secret file stops a service instead of reading as
 * "unset" (which would switch ZooKeeper ACLs or API tokens off).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestingServer, timing } from '@app/zk/testing';
import { LocalCluster } from '../support/local-cluster';

let zooKeeper: TestingServer;
let cluster: LocalCluster;

beforeAll(async () => {
  zooKeeper = await TestingServer.start();
  cluster = new LocalCluster({ connectString: zooKeeper.connectString });
}, timing.ms(60_000));

afterAll(async () => {
  await cluster?.close();
  await zooKeeper?.close();
}, timing.ms(30_000));

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('safe defaults', () => {
  it('binds to BIND_HOST only, and says the open API is for this host', async () => {
    const worker = await cluster.start('worker', { BIND_HOST: '127.0.0.1' });
    expect(await accepts('127.0.0.1', worker.httpPort)).toBe(true);
    // Still loopback, but another address: a listener on every interface would accept it.
    expect(await accepts('127.0.0.2', worker.httpPort)).toBe(false);
    expect(worker.output).toMatch(
      /APIs are open to anyone on this host \(BIND_HOST=127\.0\.0\.1\)/,
    );
    expect(worker.output).not.toMatch(/SECURITY WARNING/);
  });

  it('warns loudly when a service with no token listens on every interface', async () => {
    const scheduler = await cluster.start('scheduler');
    expect(await accepts('127.0.0.2', scheduler.httpPort)).toBe(true);
    expect(scheduler.output).toMatch(
      /SECURITY WARNING: API_TOKEN and API_TOKENS_FILE are unset and the service listens on every interface \(BIND_HOST unset\)/,
    );
  });

  it('refuses to start with an empty secret file', async () => {
    const empty = path.join(mkdtempSync(path.join(tmpdir(), 'zks-secrets-')), 'zk_auth');
    writeFileSync(empty, '\n', { mode: 0o600 });
    const failure = await cluster
      .start('worker', { ZK_AUTH_FILE: empty })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain(
      `ZK_AUTH_FILE names an empty file (${empty}): write the secret into it, or unset ZK_AUTH_FILE`,
    );
  });
});
