import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import { redactUrl } from '../logging/redact-url';
import { canonicalIp } from './address-ranges';
import {
  HttpDestinationRefusedError,
  HttpResponseTooLargeError,
  HttpTimeoutError,
} from './outbound-errors';
import type { OutboundPolicy } from './outbound-policy';
import { pinnedLookup, systemResolver, type Resolver } from './pinned-lookup';

export interface OutboundHttpClientOptions {
  policy: OutboundPolicy;
  /** A larger response body fails the request. Default 10 MiB. */
  maxResponseBytes?: number;
  /** Bytes of the body kept in the response (the rest is counted, not kept). Default all. */
  keepBodyBytes?: number;
  /** Redirects followed, each one checked like the first hop; 0 answers a redirect as it is. Default 5. */
  maxRedirects?: number;
  /** The longest a whole exchange (redirects included) may take. Default no limit. */
  timeoutMs?: number;
  /** Resolves host names (tests answer differently on each call). Default the system resolver. */
  resolver?: Resolver;
  /** Called on each redirect followed. */
  onRedirect?: (status: number, location: URL) => void;
}

export interface OutboundRequest {
  method: string;
  url: string | URL;
  headers?: Readonly<Record<string, string>>;
  body?: string | Buffer;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** Where the answer came from, after redirects. */
  url: URL;
  method: string;
  /** The whole body's size. */
  bodyBytes: number;
  /** Its first `keepBodyBytes` bytes. */
  body: Buffer;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * HTTP(S) calls to destinations chosen by users, under an OutboundPolicy:
 * each hop resolves its host once, checks every address, and connects to
 * exactly those addresses (a pinned `lookup`), so a DNS answer that changes
 * between check and connect (rebinding) cannot lead anywhere unchecked.
 * Redirects are followed by hand and each is checked the same way;
 * credentials are dropped on a change of origin; bodies are capped; no proxy,
 * no connection reuse, no decompression.
 */
export class OutboundHttpClient {
  private readonly maxResponseBytes: number;
  private readonly keepBodyBytes: number;
  private readonly maxRedirects: number;
  private readonly resolver: Resolver;

  constructor(private readonly options: OutboundHttpClientOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.keepBodyBytes = options.keepBodyBytes ?? this.maxResponseBytes;
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.resolver = options.resolver ?? systemResolver;
  }

  get policy(): OutboundPolicy {
    return this.options.policy;
  }

  async request(request: OutboundRequest): Promise<OutboundResponse> {
    const deadline =
      this.options.timeoutMs === undefined
        ? undefined
        : AbortSignal.timeout(this.options.timeoutMs);
    const signals = [request.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
    let url = typeof request.url === 'string' ? new URL(request.url) : request.url;
    let method = request.method.toUpperCase();
    let headers = { ...request.headers };
    let body = request.body;
    try {
      for (let redirects = 0; ; redirects += 1) {
        const response = await this.hop(url, method, headers, body, signal);
        const location = response.headers.location;
        if (
          !REDIRECT_STATUSES.has(response.statusCode ?? 0) ||
          !location ||
          this.maxRedirects === 0
        ) {
          return await this.answer(response, url, method);
        }
        response.destroy();
        if (redirects >= this.maxRedirects) {
          throw new Error(`${method} ${shown(url)}: more than ${this.maxRedirects} redirects`);
        }
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw new HttpDestinationRefusedError(
            `redirect to a non-http URL refused: ${shown(next)}`,
          );
        }
        const status = response.statusCode ?? 0;
        // Like browsers: 303, and 301/302 after a POST, continue as a GET without body.
        if (status === 303 || (status <= 302 && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers = withoutHeaders(headers, ['content-type', 'content-length']);
        }
        if (next.origin !== url.origin) headers = withoutHeaders(headers, CREDENTIAL_HEADERS);
        this.options.onRedirect?.(status, next);
        url = next;
      }
    } catch (error: unknown) {
      if (deadline?.aborted && !request.signal?.aborted) {
        throw new HttpTimeoutError(
          `${method} ${shown(url)}: no complete answer within ${this.options.timeoutMs} ms`,
        );
      }
      throw describeFailure(error, method, url);
    }
  }

  /** One request to `url`, after the policy's checks; resolves with the response head. */
  private async hop(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    signal: AbortSignal | undefined,
  ): Promise<IncomingMessage> {
    if (url.username !== '' || url.password !== '') {
      throw new HttpDestinationRefusedError(`${url.origin}: URLs with credentials are refused`);
    }
    const refusal = this.policy.refusalOfHost(url.hostname);
    if (refusal !== undefined) throw new HttpDestinationRefusedError(refusal);
    const literal = canonicalIp(url.hostname) !== undefined;
    const addresses = literal ? undefined : await this.checkedAddresses(url.hostname);
    const send = url.protocol === 'https:' ? https.request : http.request;
    const outgoing = send(url, {
      method,
      headers:
        body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      // A fresh connection per hop: a pooled socket would skip the checks.
      agent: false,
      ...(addresses === undefined ? {} : { lookup: pinnedLookup(addresses) }),
      signal,
    });
    const answered = once(outgoing, 'response') as Promise<[IncomingMessage]>;
    outgoing.end(body);
    const [response] = await answered;
    return response;
  }

  private async checkedAddresses(hostname: string): Promise<readonly LookupAddress[]> {
    const addresses = await this.resolver(hostname);
    if (addresses.length === 0) throw new Error(`${hostname} has no address`);
    for (const { address } of addresses) {
      const refusal = this.policy.refusalOfAddress(hostname, address);
      if (refusal !== undefined) throw new HttpDestinationRefusedError(refusal);
    }
    return addresses;
  }

  private async answer(
    response: IncomingMessage,
    url: URL,
    method: string,
  ): Promise<OutboundResponse> {
    const tooLarge = (): HttpResponseTooLargeError =>
      new HttpResponseTooLargeError(
        `${method} ${shown(url)}: response body exceeds ${this.maxResponseBytes} bytes`,
      );
    const declared = Number(response.headers['content-length'] ?? Number.NaN);
    if (declared > this.maxResponseBytes) {
      response.destroy();
      throw tooLarge();
    }
    let bodyBytes = 0;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    // Leaving the loop early destroys the stream, which closes the connection.
    for await (const chunk of response as AsyncIterable<Buffer>) {
      bodyBytes += chunk.byteLength;
      if (bodyBytes > this.maxResponseBytes) throw tooLarge();
      if (keptBytes < this.keepBodyBytes) {
        const part = chunk.subarray(0, this.keepBodyBytes - keptBytes);
        kept.push(part);
        keptBytes += part.byteLength;
      }
    }
    const status = response.statusCode ?? 0;
    return {
      status,
      statusText: response.statusMessage ?? '',
      headers: response.headers,
      url,
      method,
      bodyBytes,
      body: Buffer.concat(kept),
    };
  }
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())),
  );
}

/** Socket and DNS errors say what failed, not for which request: add it. */
function describeFailure(error: unknown, method: string, url: URL): unknown {
  // Duck-typed: Node's own errors may come from another realm (instanceof fails there).
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  const ours = [
    HttpDestinationRefusedError.name,
    HttpResponseTooLargeError.name,
    'AbortError',
  ].includes(String(name));
  if (ours || typeof message !== 'string' || message.startsWith(`${method} ${shown(url)}`)) {
    return error;
  }
  return new Error(`${method} ${shown(url)} failed: ${message}`, { cause: error });
}

/** A URL as messages show it: secrets in its query masked (task errors are stored and logged). */
export function shown(url: URL): string {
  return redactUrl(url) ?? url.origin;
}
