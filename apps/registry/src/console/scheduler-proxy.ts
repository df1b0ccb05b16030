import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { STATUS_CODES } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { MAX_REQUEST_BYTES } from '@app/contracts/dto/scheduler-api';

/** Requests under this prefix go to a scheduler: `/api/scheduler/v1/jobs` → `/v1/jobs`. */
export const SCHEDULER_PROXY_PREFIX = '/api/scheduler';

/** Request headers passed on: the token goes through, the scheduler checks it itself. */
const FORWARDED_REQUEST = ['authorization', 'content-type', 'accept', 'if-none-match'];
/** Response headers passed back. */
const FORWARDED_RESPONSE = ['content-type', 'retry-after', 'www-authenticate', 'cache-control'];
/** Connection refused or reset before an answer: nothing reached that scheduler. */
const NOT_REACHED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

type Next = (error?: unknown) => void;

/**
 * Forwards `/api/scheduler/*` to a live scheduler replica (any serves the
 * API; the list comes from the registry's watched view of
 * `/members/schedulers`), so the console needs one URL and no CORS. Replicas
 * are taken in turn; one that refuses the connection is skipped for the next
 * (nothing was sent to it, so even a write is safe to send elsewhere). Without
 * any, the answer is 503 in the API's error shape. With TLS on (`tls`: the
 * registry's own certificate, which a cluster's services share, as in
 * docker-compose.secure.yml) the schedulers are called over HTTPS, trusting
 * that certificate and the usual roots, host names checked.
 */
export function schedulerProxy(
  endpoints: () => readonly string[],
  options: { tls?: { cert: Buffer }; timeoutMs?: number } = {},
): (request: IncomingMessage, response: ServerResponse, next: Next) => void {
  let turn = 0;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const send = options.tls === undefined ? httpRequest : httpsRequest;
  const Agent = options.tls === undefined ? HttpAgent : HttpsAgent;
  const ca = options.tls === undefined ? undefined : [...rootCertificates, options.tls.cert];
  return (request, response, next) => {
    const url = request.url ?? '/';
    if (url !== SCHEDULER_PROXY_PREFIX && !url.startsWith(`${SCHEDULER_PROXY_PREFIX}/`)) {
      return next();
    }
    const path = url.slice(SCHEDULER_PROXY_PREFIX.length) || '/';
    const candidates = rotate(endpoints(), turn++);
    const withBody = hasBody(request);
    if (withBody && !isJson(request)) {
      // The scheduler API reads JSON only; another body it would leave unread could race
      // its answer (it may close the connection while the rest is on its way).
      refuse(
        response,
        415,
        'content-type',
        'the scheduler API takes JSON bodies (application/json)',
      );
      return;
    }
    const attempt = (index: number, body?: Buffer): void => {
      const endpoint = candidates[index];
      if (endpoint === undefined) {
        unavailable(response, 'no scheduler can be reached: is one running?');
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_REQUEST) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      if (body !== undefined) headers['content-length'] = String(body.length);
      const [host, port] = splitEndpoint(endpoint);
      // A connection per call: a kept-alive one can be closed by the scheduler just as a
      // request goes out on it (its keep-alive timeout), failing a call that never reached it.
      // Its own agent, not `agent: false`, which asks for `Connection: close`: a scheduler
      // answering before the end of a body (an unknown path) then closes the connection on the
      // rest of it, and the answer is lost to "write EPIPE" (the API fuzz, a 9 MB body); kept
      // alive, it reads the rest and the answer comes through.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const upstream = send(
        { host, port, path, method: request.method, headers, timeout: timeoutMs, ca, agent },
        (answer) => {
          response.statusCode = answer.statusCode ?? 502;
          for (const name of FORWARDED_RESPONSE) {
            const value = answer.headers[name];
            if (value !== undefined) response.setHeader(name, value);
          }
          answer.pipe(response);
        },
      );
      upstream.on('close', () => agent.destroy());
      upstream.on('timeout', () => upstream.destroy(new Error('the scheduler did not answer')));
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (response.headersSent) return response.destroy();
        if (error.code !== undefined && NOT_REACHED.has(error.code)) {
          return attempt(index + 1, body);
        }
        unavailable(response, `the scheduler at ${endpoint} failed: ${error.message}`, 502);
      });
      // The browser went away (a request's own 'close' comes once its body is read: not that).
      response.on('close', () => {
        if (!response.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    };
    if (!withBody) return attempt(0);
    // Read whole before it goes on: a replica that refuses the connection is skipped
    // for the next, which needs the same bytes.
    readBody(request, MAX_REQUEST_BYTES).then(
      (read) => {
        if (read === undefined) {
          refuse(response, 413, 'body', `must be at most ${MAX_REQUEST_BYTES} bytes`);
          return;
        }
        attempt(0, read);
      },
      () => response.destroy(),
    );
  };
}

/**
 * The request body as bytes, passed on unchanged (the forwarder runs before
 * the registry parses any body); undefined when it is over `limit`.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Read to the end even when over the limit, so that the 413 reaches the client.
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.once('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

function isJson(request: IncomingMessage): boolean {
  const type = request.headers['content-type']?.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type?.endsWith('+json') ?? false);
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** `host:port` or `[v6]:port`. */
function splitEndpoint(endpoint: string): [string, number] {
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(endpoint.slice(colon + 1))];
}

function unavailable(response: ServerResponse, message: string, status = 503): void {
  refuse(response, status, 'scheduler', message);
}

/** An answer in the API's error shape. */
function refuse(response: ServerResponse, status: number, field: string, message: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.end(
    JSON.stringify({
      statusCode: status,
      error: STATUS_CODES[status],
      message,
      errors: [{ field, reason: message }],
    }),
  );
}
