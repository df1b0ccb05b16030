import { Inject, Injectable, Optional } from '@nestjs/common';
import { lookup } from 'node:dns/promises';
import { HTTP_HANDLER_OPTIONS } from '../handlers-options';
import { ipLiteral, isLinkLocalOrMetadata } from '../support/blocked-addresses';
import {
  optionalOneOf,
  optionalStringRecord,
  payloadObject,
  requiredString,
} from '../support/payload-fields';
import { TaskHandlerType } from '../task-handler-type.decorator';
import {
  HandlerAbortedError,
  PayloadError,
  type TaskContext,
  type TaskHandler,
} from '../task-handler';

export interface HttpHandlerOptions {
  /**
   * When set, only these hosts may be called (case-insensitive; `*.example.com`
   * matches its subdomains, not the apex). Checked again on every redirect.
   */
  allowedHosts?: string[];
  /**
   * Reaching link-local addresses (169.254.0.0/16, fe80::/10) and cloud
   * metadata endpoints is refused unless this is true. Default false.
   */
  allowLinkLocal?: boolean;
  /** A larger response body fails the task. Default 10 MiB. */
  maxResponseBytes?: number;
  /** Redirects followed (each one re-checked). Default 5. */
  maxRedirects?: number;
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface HttpPayload {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  /** Serialised body (JSON bodies are stringified by parse). */
  body?: string;
}

export interface HttpResult {
  status: number;
  bodyBytes: number;
  /** The start of the body as text, at most EXCERPT_BYTES bytes. */
  bodyExcerpt: string;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
export const EXCERPT_BYTES = 256;

/** The server answered outside 2xx. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The destination is refused by policy (allowlist or link-local/metadata address). */
export class HttpDestinationRefusedError extends Error {
  override readonly name = 'HttpDestinationRefusedError';
}

/** The response body is larger than `maxResponseBytes`. */
export class HttpResponseTooLargeError extends Error {
  override readonly name = 'HttpResponseTooLargeError';
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * Calls a URL with Node's global fetch. Redirects are followed by hand so that
 * every hop passes the same destination checks.
 *
 * Limitation: the address check resolves the host name itself before fetch
 * resolves it again, so a DNS server answering differently within that window
 * (DNS rebinding) is not caught; `allowedHosts` is the strong control.
 */
@TaskHandlerType('http')
@Injectable()
export class HttpHandler implements TaskHandler<HttpPayload, HttpResult> {
  readonly type = 'http';
  private readonly allowedHosts: string[] | undefined;
  private readonly allowLinkLocal: boolean;
  private readonly maxResponseBytes: number;
  private readonly maxRedirects: number;

  constructor(@Optional() @Inject(HTTP_HANDLER_OPTIONS) options: HttpHandlerOptions = {}) {
    this.allowedHosts = options.allowedHosts?.map((host) => host.toLowerCase());
    this.allowLinkLocal = options.allowLinkLocal ?? false;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  }

  parse(payload: unknown): HttpPayload {
    const object = payloadObject(payload, ['method', 'url', 'headers', 'body']);
    const method = optionalOneOf(object, 'method', HTTP_METHODS) ?? 'GET';
    const url = parseUrl(requiredString(object, 'url'));
    const refusal = this.refusalOfHost(url);
    if (refusal !== undefined) {
      throw new PayloadError('url', refusal);
    }
    const headers = optionalStringRecord(object, 'headers') ?? {};
    for (const [name, value] of Object.entries(headers)) {
      if (!HEADER_NAME.test(name)) {
        throw new PayloadError(`headers.${name}`, 'is not a valid header name');
      }
      if (HEADER_VALUE_FORBIDDEN.test(value)) {
        throw new PayloadError(`headers.${name}`, 'must not contain CR, LF or NUL');
      }
    }
    const rawBody = object.body;
    if (rawBody === undefined) {
      return { method, url: url.href, headers };
    }
    if (method === 'GET' || method === 'HEAD') {
      throw new PayloadError('body', `is not allowed with ${method}`);
    }
    if (typeof rawBody === 'string') {
      return { method, url: url.href, headers, body: rawBody };
    }
    const hasContentType = Object.keys(headers).some(
      (name) => name.toLowerCase() === 'content-type',
    );
    return {
      method,
      url: url.href,
      headers: hasContentType ? headers : { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(rawBody),
    };
  }

  async run(payload: HttpPayload, context: TaskContext): Promise<HttpResult> {
    const { signal } = context;
    let url = new URL(payload.url);
    let method: HttpMethod = payload.method;
    let headers = payload.headers;
    let body = payload.body;
    try {
      for (let redirects = 0; ; redirects += 1) {
        await this.checkDestination(url);
        const response = await fetch(url, { method, headers, body, redirect: 'manual', signal });
        const location = response.headers.get('location');
        if (REDIRECT_STATUSES.has(response.status) && location !== null) {
          await response.body?.cancel();
          if (redirects >= this.maxRedirects) {
            throw new Error(
              `${payload.method} ${payload.url}: more than ${this.maxRedirects} redirects`,
            );
          }
          const next = new URL(location, url);
          if (next.protocol !== 'http:' && next.protocol !== 'https:') {
            throw new HttpDestinationRefusedError(
              `redirect to a non-http URL refused: ${next.href}`,
            );
          }
          // Like browsers: 303, and 301/302 after a POST, continue as a GET without body.
          if (response.status === 303 || (response.status <= 302 && method === 'POST')) {
            method = 'GET';
            body = undefined;
            headers = withoutHeaders(headers, ['content-type', 'content-length']);
          }
          if (next.origin !== url.origin) {
            headers = withoutHeaders(headers, CREDENTIAL_HEADERS);
          }
          context.logger.info('http redirect', { status: response.status, location: next.href });
          url = next;
          continue;
        }
        const { bytes, excerpt } = await this.readBody(response, method, url);
        if (!response.ok) {
          throw new HttpStatusError(
            response.status,
            `${method} ${url.href} answered ${response.status} ${response.statusText}` +
              (excerpt === '' ? '' : `: ${excerpt}`),
          );
        }
        return { status: response.status, bodyBytes: bytes, bodyExcerpt: excerpt };
      }
    } catch (error: unknown) {
      if (signal.aborted) {
        throw new HandlerAbortedError(signal.reason);
      }
      throw describeFetchError(error, method, url);
    }
  }

  /** Why a URL's host is refused before any lookup, or undefined. */
  private refusalOfHost(url: URL): string | undefined {
    const host = url.hostname.toLowerCase();
    if (
      this.allowedHosts !== undefined &&
      !this.allowedHosts.some((entry) => hostMatches(entry, host))
    ) {
      return `host ${host} is not in the worker's allowed hosts (${this.allowedHosts.join(', ')})`;
    }
    const literal = ipLiteral(host);
    if (!this.allowLinkLocal && literal !== undefined && isLinkLocalOrMetadata(literal)) {
      return `host ${host} is a link-local or cloud metadata address, which tasks may not call`;
    }
    return undefined;
  }

  private async checkDestination(url: URL): Promise<void> {
    const refusal = this.refusalOfHost(url);
    if (refusal !== undefined) {
      throw new HttpDestinationRefusedError(refusal);
    }
    if (this.allowLinkLocal || ipLiteral(url.hostname) !== undefined) {
      return;
    }
    const addresses = await lookup(url.hostname, { all: true, verbatim: true });
    const blocked = addresses.find(({ address }) => isLinkLocalOrMetadata(address));
    if (blocked !== undefined) {
      throw new HttpDestinationRefusedError(
        `host ${url.hostname} resolves to ${blocked.address}, a link-local or cloud metadata address, which tasks may not call`,
      );
    }
  }

  private async readBody(
    response: Response,
    method: HttpMethod,
    url: URL,
  ): Promise<{ bytes: number; excerpt: string }> {
    const tooLarge = (): HttpResponseTooLargeError =>
      new HttpResponseTooLargeError(
        `${method} ${url.href}: response body exceeds ${this.maxResponseBytes} bytes`,
      );
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > this.maxResponseBytes) {
      await response.body?.cancel();
      throw tooLarge();
    }
    if (response.body === null) {
      return { bytes: 0, excerpt: '' };
    }
    let bytes = 0;
    const head: Uint8Array[] = [];
    let headBytes = 0;
    // Leaving the loop early cancels the stream, which closes the connection.
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      if (bytes > this.maxResponseBytes) {
        throw tooLarge();
      }
      if (headBytes < EXCERPT_BYTES) {
        const part = chunk.subarray(0, EXCERPT_BYTES - headBytes);
        head.push(part);
        headBytes += part.byteLength;
      }
    }
    // stream: true leaves a character cut by the cap out instead of mangling it.
    const excerpt = new TextDecoder().decode(Buffer.concat(head), { stream: true });
    return { bytes, excerpt };
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PayloadError('url', `is not a valid URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PayloadError('url', `must use http or https, got ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new PayloadError('url', 'must not contain credentials (use an Authorization header)');
  }
  return url;
}

function hostMatches(entry: string, host: string): boolean {
  if (entry.startsWith('*.')) {
    return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
  }
  return entry === host;
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())),
  );
}

/** fetch's own failures say only "fetch failed"; the cause says why (ECONNREFUSED…). */
function describeFetchError(error: unknown, method: HttpMethod, url: URL): unknown {
  // Duck-typed: fetch's errors may come from another realm (instanceof fails there).
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause;
  if ((error as Error | null)?.name === 'TypeError' && typeof cause?.message === 'string') {
    return new Error(`${method} ${url.href} failed: ${cause.message}`, { cause: error });
  }
  return error;
}
