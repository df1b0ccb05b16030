/**
 * The outbound client against real HTTP servers, with a resolver that answers
 * differently on its second call (DNS rebinding). Two servers share one port:
 * `public` on 127.0.0.1 and `internal` on 127.0.0.2; the policy is told that
 * 127.0.0.1 is public and 127.0.0.2 private, so a request that reaches
 * `internal` is exactly the escape rebinding aims for.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo } from 'node:net';
import {
  HttpDestinationRefusedError,
  HttpResponseTooLargeError,
  HttpTimeoutError,
  OutboundHttpClient,
  OutboundPolicy,
  classifyAddress,
  type AddressClass,
} from '@app/common';

const PUBLIC = '127.0.0.1';
const INTERNAL = '127.0.0.2';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

class RecordingServer {
  readonly paths: string[] = [];
  route: Route = (_req, res) => res.end('ok');
  readonly server = http.createServer((req, res) => {
    this.paths.push(req.url ?? '');
    this.route(req, res);
  });

  async listen(host: string, port: number): Promise<number> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** A resolver that answers from a script, one entry per call (the last one repeats). */
function scriptedResolver(...answers: string[][]): {
  resolve: (hostname: string) => Promise<LookupAddress[]>;
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    resolve: (hostname: string) => {
      const answer = answers[Math.min(calls.length, answers.length - 1)];
      calls.push(hostname);
      return Promise.resolve(answer.map((address) => ({ address, family: 4 })));
    },
  };
}

/** The real classes, except that the test's 127.0.0.1 counts as a public address. */
const testClasses = (address: string): AddressClass | undefined =>
  address === PUBLIC ? { kind: 'public', range: 'unicast' } : classifyAddress(address);

describe('OutboundHttpClient', () => {
  const publicServer = new RecordingServer();
  const internalServer = new RecordingServer();
  let port: number;

  beforeAll(async () => {
    port = await publicServer.listen(PUBLIC, 0);
    await internalServer.listen(INTERNAL, port);
  });

  afterAll(async () => {
    await publicServer.close();
    await internalServer.close();
  });

  beforeEach(() => {
    publicServer.paths.length = 0;
    internalServer.paths.length = 0;
    publicServer.route = (_req, res) => res.end('public');
    internalServer.route = (_req, res) => res.end('internal');
  });

  function client(resolver: ReturnType<typeof scriptedResolver>, timeoutMs?: number) {
    return new OutboundHttpClient({
      policy: new OutboundPolicy({ classify: testClasses }),
      resolver: resolver.resolve,
      timeoutMs,
    });
  }

  it('connects to the address it checked, not to a second answer (rebinding)', async () => {
    const dns = scriptedResolver([PUBLIC], [INTERNAL]);
    const response = await client(dns).request({
      method: 'GET',
      url: `http://rebind.test:${port}/a`,
    });
    expect(response.body.toString()).toBe('public');
    expect(dns.calls).toEqual(['rebind.test']);
    expect(publicServer.paths).toEqual(['/a']);
    expect(internalServer.paths).toEqual([]);
  });

  it('checks a redirect to the same name again and refuses the rebound address', async () => {
    publicServer.route = (_req, res) =>
      res.writeHead(302, { location: `http://rebind.test:${port}/next` }).end();
    const dns = scriptedResolver([PUBLIC], [INTERNAL]);
    const error = await client(dns)
      .request({ method: 'GET', url: `http://rebind.test:${port}/start` })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpDestinationRefusedError);
    expect((error as Error).message).toBe(
      `host rebind.test resolves to ${INTERNAL}, ${INTERNAL} is a loopback address, which may not be called unless the allowed hosts name the host`,
    );
    expect(dns.calls).toEqual(['rebind.test', 'rebind.test']);
    expect(publicServer.paths).toEqual(['/start']);
    expect(internalServer.paths).toEqual([]);
  });

  it('refuses a name when any of its addresses is refused', async () => {
    const dns = scriptedResolver([PUBLIC, INTERNAL]);
    await expect(
      client(dns).request({ method: 'POST', url: `http://mixed.test:${port}/`, body: 'x' }),
    ).rejects.toThrow(HttpDestinationRefusedError);
    expect(publicServer.paths).toEqual([]);
    expect(internalServer.paths).toEqual([]);
  });

  it('refuses a literal refused address and credentials in URLs before connecting', async () => {
    const dns = scriptedResolver([PUBLIC]);
    await expect(
      client(dns).request({ method: 'GET', url: `http://${INTERNAL}:${port}/` }),
    ).rejects.toThrow(/127\.0\.0\.2 is a loopback address/);
    await expect(
      client(dns).request({ method: 'GET', url: `http://u:p@rebind.test:${port}/` }),
    ).rejects.toThrow(/URLs with credentials are refused/);
    expect(dns.calls).toEqual([]);
    expect(internalServer.paths).toEqual([]);
  });

  it('gives up after its timeout, whatever the server does', async () => {
    publicServer.route = () => undefined; // never answers
    const dns = scriptedResolver([PUBLIC]);
    await expect(
      client(dns, 200).request({ method: 'GET', url: `http://slow.test:${port}/hang` }),
    ).rejects.toThrow(HttpTimeoutError);
  });

  it('caps the body, and hands a redirect back as it is with maxRedirects 0', async () => {
    const dns = scriptedResolver([PUBLIC]);
    publicServer.route = (_req, res) => res.end('x'.repeat(2_000));
    const capped = new OutboundHttpClient({
      policy: new OutboundPolicy({ classify: testClasses }),
      resolver: dns.resolve,
      maxResponseBytes: 1_000,
      maxRedirects: 0,
    });
    await expect(
      capped.request({ method: 'GET', url: `http://big.test:${port}/` }),
    ).rejects.toThrow(HttpResponseTooLargeError);
    publicServer.route = (_req, res) => res.writeHead(307, { location: '/elsewhere' }).end();
    const redirect = await capped.request({ method: 'GET', url: `http://r.test:${port}/` });
    expect(redirect).toMatchObject({ status: 307, headers: { location: '/elsewhere' } });
    expect(publicServer.paths).toEqual(['/', '/']);
  });
});
