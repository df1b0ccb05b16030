import { Inject, Injectable, Optional } from '@nestjs/common';
import { OutboundHttpClient, OutboundPolicy, shown } from '@app/common';
import { HTTP_HANDLER_OPTIONS } from '../handlers-options';
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

// Thrown through run(); exported here for handler callers and tests.
export { HttpDestinationRefusedError, HttpResponseTooLargeError } from '@app/common';

export interface HttpHandlerOptions {
  /**
   * When set, only these hosts may be called (see OutboundPolicy: host names,
   * `*.example.com` for subdomains, IP literals), and they may be private
   * addresses. Unset: any host whose addresses are all public.
   */
  allowedHosts?: string[];
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

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

/**
 * Calls a URL through the shared OutboundHttpClient: the host is resolved
 * once, every address checked against the outbound policy, and the
 * connection made to exactly those addresses, on every redirect too.
 */
@TaskHandlerType('http')
@Injectable()
export class HttpHandler implements TaskHandler<HttpPayload, HttpResult> {
  readonly type = 'http';
  private readonly client: OutboundHttpClient;

  constructor(@Optional() @Inject(HTTP_HANDLER_OPTIONS) options: HttpHandlerOptions = {}) {
    this.client = new OutboundHttpClient({
      policy: new OutboundPolicy({ allowedHosts: options.allowedHosts }),
      maxResponseBytes: options.maxResponseBytes,
      maxRedirects: options.maxRedirects,
      keepBodyBytes: EXCERPT_BYTES,
    });
  }

  parse(payload: unknown): HttpPayload {
    const object = payloadObject(payload, ['method', 'url', 'headers', 'body']);
    const method = optionalOneOf(object, 'method', HTTP_METHODS) ?? 'GET';
    const url = parseUrl(requiredString(object, 'url'));
    const refusal = this.client.policy.refusalOfHost(url.hostname);
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
    try {
      const response = await this.client.request({ ...payload, signal });
      // stream: true leaves a character cut by the cap out instead of mangling it.
      const excerpt = new TextDecoder().decode(response.body, { stream: true });
      if (response.status < 200 || response.status > 299) {
        throw new HttpStatusError(
          response.status,
          `${response.method} ${shown(response.url)} answered ${response.status} ${response.statusText}` +
            (excerpt === '' ? '' : `: ${excerpt}`),
        );
      }
      return { status: response.status, bodyBytes: response.bodyBytes, bodyExcerpt: excerpt };
    } catch (error: unknown) {
      if (signal.aborted) {
        throw new HandlerAbortedError(signal.reason);
      }
      throw error;
    }
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
