import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventQueue } from '@app/zk/testing';
import {
  EXCERPT_BYTES,
  HandlerAbortedError,
  HttpDestinationRefusedError,
  HttpHandler,
  HttpResponseTooLargeError,
  HttpStatusError,
  PayloadError,
  TaskAbortReason,
  type HttpHandlerOptions,
} from '../../src/handlers';
import { taskContext } from './task-context';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('http handler', () => {
  let server: http.Server;
  let base: string;
  const requests = new EventQueue<Received>();
  let route: (req: IncomingMessage, res: ServerResponse) => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        route(req, res);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    requests.drain();
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  /** The test server is on loopback, which only an allowlist naming it opens. */
  const LOCAL: HttpHandlerOptions = { allowedHosts: ['127.0.0.1', 'localhost'] };

  async function call(payload: unknown, options: HttpHandlerOptions = LOCAL) {
    const handler = new HttpHandler(options);
    return handler.run(handler.parse(payload), taskContext().context);
  }

  it('GETs a URL and returns status, size and an excerpt', async () => {
    route = (_req, res) => res.end('hello world');
    await expect(call({ url: `${base}/ok` })).resolves.toEqual({
      status: 200,
      bodyBytes: 11,
      bodyExcerpt: 'hello world',
    });
    expect(await requests.next()).toMatchObject({ method: 'GET', url: '/ok' });
  });

  it('sends a JSON body with its content type, and string bodies as given', async () => {
    route = (_req, res) => {
      res.statusCode = 201;
      res.end();
    };
    const result = await call({
      method: 'POST',
      url: `${base}/items`,
      headers: { 'X-Trace': 'abc' },
      body: { name: 'a', n: 1 },
    });
    expect(result).toEqual({ status: 201, bodyBytes: 0, bodyExcerpt: '' });
    const json = await requests.next();
    expect(json).toMatchObject({ method: 'POST', body: '{"name":"a","n":1}' });
    expect(json.headers).toMatchObject({ 'content-type': 'application/json', 'x-trace': 'abc' });

    await call({
      method: 'PUT',
      url: `${base}/raw`,
      headers: { 'Content-Type': 'text/plain' },
      body: 'x=1',
    });
    const raw = await requests.next();
    expect(raw).toMatchObject({ method: 'PUT', body: 'x=1' });
    expect(raw.headers['content-type']).toBe('text/plain');
  });

  it('fails on a non-2xx status, naming it', async () => {
    route = (_req, res) => {
      res.statusCode = 500;
      res.end('database down');
    };
    const error = await call({ url: `${base}/boom` }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ status: 500 });
    expect((error as Error).message).toBe(
      `GET ${base}/boom answered 500 Internal Server Error: database down`,
    );
  });

  it('caps the excerpt and refuses bodies over the size cap (declared or streamed)', async () => {
    route = (_req, res) => res.end('x'.repeat(1_000));
    const small = await call({ url: `${base}/big` });
    expect(small).toMatchObject({ status: 200, bodyBytes: 1_000 });
    expect(small.bodyExcerpt).toHaveLength(EXCERPT_BYTES);

    await expect(call({ url: `${base}/big` }, { ...LOCAL, maxResponseBytes: 999 })).rejects.toThrow(
      HttpResponseTooLargeError,
    );
    route = (_req, res) => {
      // Chunked, no content-length: the cap is enforced while reading.
      res.write('y'.repeat(600));
      res.end('y'.repeat(600));
    };
    await expect(
      call({ url: `${base}/chunked` }, { ...LOCAL, maxResponseBytes: 1_000 }),
    ).rejects.toThrow(/response body exceeds 1000 bytes/);
  });

  it('stops when the signal fires while the server hangs', async () => {
    route = () => undefined; // never answers
    const handler = new HttpHandler(LOCAL);
    const { context, controller } = taskContext();
    const running = handler.run(handler.parse({ url: `${base}/hang` }), context);
    await requests.next();
    controller.abort(new TaskAbortReason('timeout'));
    const error = await running.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HandlerAbortedError);
    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('resolves host names before calling them (the address check runs on the result)', async () => {
    route = (_req, res) => res.end('by name');
    const port = (server.address() as AddressInfo).port;
    await expect(call({ url: `http://localhost:${port}/named` })).resolves.toMatchObject({
      bodyExcerpt: 'by name',
    });
    await expect(call({ url: 'http://no-such-host.invalid/' }, {})).rejects.toThrow(/ENOTFOUND/);
  });

  it('follows redirects and re-checks each hop', async () => {
    route = (req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { location: '/new' }).end();
      } else if (req.url === '/metadata') {
        res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else {
        res.end('moved');
      }
    };
    await expect(call({ url: `${base}/old` })).resolves.toMatchObject({ bodyExcerpt: 'moved' });
    expect((await requests.next()).url).toBe('/old');
    expect((await requests.next()).url).toBe('/new');

    const error = await call({ url: `${base}/metadata` }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpDestinationRefusedError);
    expect((error as Error).message).toBe(
      'host 169.254.169.254 is not in the allowed hosts (127.0.0.1, localhost)',
    );
    await expect(call({ url: `${base}/old` }, {})).rejects.toThrow(/loopback address/);
  });

  it('refuses special and cloud metadata addresses without an allowlist, naming the range', () => {
    const handler = new HttpHandler();
    const cases: [string, RegExp][] = [
      ['http://169.254.169.254/latest/meta-data/', /cloud metadata address/],
      ['http://2852039166/', /169\.254\.169\.254 is a cloud metadata address/],
      ['http://[::ffff:169.254.169.254]/', /cloud metadata address/],
      ['http://[fd00:ec2::254]/', /cloud metadata address/],
      ['http://100.100.100.200/', /cloud metadata address/],
      ['http://127.0.0.1/', /loopback address/],
      ['http://0x7f.1/', /127\.0\.0\.1 is a loopback address/],
      ['http://[::1]/', /loopback address/],
      ['http://10.0.0.1/', /private address/],
      ['http://100.64.0.1/', /carrierGradeNat address/],
      ['http://[fe80::1]/', /linkLocal address/],
      ['http://[fd00::1]/', /uniqueLocal address/],
      ['http://[64:ff9b::7f00:1]/', /rfc6052 of loopback address/],
    ];
    for (const [url, reason] of cases) {
      expect(() => handler.parse({ url })).toThrow(PayloadError);
      expect(() => handler.parse({ url })).toThrow(reason);
    }
    expect(() =>
      new HttpHandler({ allowedHosts: ['169.254.169.254'] }).parse({
        url: 'http://169.254.169.254/',
      }),
    ).not.toThrow();
  });

  it('refuses hosts outside allowedHosts, clearly', async () => {
    const handler = new HttpHandler({ allowedHosts: ['api.example.com', '*.internal.example'] });
    expect(() => handler.parse({ url: `${base}/` })).toThrow(
      'payload.url host 127.0.0.1 is not in the allowed hosts (api.example.com, *.internal.example)',
    );
    expect(handler.parse({ url: 'https://API.example.com/x' }).url).toBe(
      'https://api.example.com/x',
    );
    expect(() => handler.parse({ url: 'https://a.internal.example/' })).not.toThrow();
    expect(() => handler.parse({ url: 'https://internal.example/' })).toThrow(
      /not in the allowed hosts/,
    );

    route = (_req, res) => res.end('ok');
    await expect(call({ url: `${base}/` }, { allowedHosts: ['127.0.0.1'] })).resolves.toMatchObject(
      { status: 200 },
    );
  });

  it('reports connection failures with their cause', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    await expect(call({ url: `http://127.0.0.1:${port}/` })).rejects.toThrow(
      `GET http://127.0.0.1:${port}/ failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('names the field of every bad payload', () => {
    const handler = new HttpHandler();
    const cases: [unknown, RegExp][] = [
      [{}, /^payload\.url is required$/],
      [{ url: 'not a url' }, /^payload\.url is not a valid URL/],
      [{ url: 'ftp://example.com/' }, /^payload\.url must use http or https, got ftp$/],
      [{ url: 'http://u:p@example.com/' }, /^payload\.url must not contain credentials/],
      [
        { url: 'http://example.com/', method: 'TRACE' },
        /^payload\.method must be one of GET, POST/,
      ],
      [{ url: 'http://example.com/', headers: { a: 1 } }, /^payload\.headers\.a must be a string$/],
      [
        { url: 'http://example.com/', headers: { 'a b': 'x' } },
        /^payload\.headers\.a b is not a valid header name$/,
      ],
      [
        { url: 'http://example.com/', headers: { a: 'x\r\nb: y' } },
        /^payload\.headers\.a must not contain CR/,
      ],
      [{ url: 'http://example.com/', body: 'x' }, /^payload\.body is not allowed with GET$/],
      [{ url: 'http://example.com/', timeout: 1 }, /^payload\.timeout is not a known field/],
      [[], /^payload must be a JSON object/],
    ];
    for (const [payload, message] of cases) {
      expect(() => handler.parse(payload)).toThrow(PayloadError);
      expect(() => handler.parse(payload)).toThrow(message);
    }
  });
});
