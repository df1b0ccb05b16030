/**
 * A JSON client of one service's public HTTP API (the scheduler's or the
 * registry's) that turns every way a request can fail into a CliError with the
 * exit code scripts expect and a message a person can act on.
 */
import type { ApiErrorBody } from '@app/contracts/dto/scheduler-api';
import { CliError, ExitCode } from './exit-codes';

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
}

export interface ApiClientOptions {
  /** What the user calls it in messages: `scheduler`, `registry`. */
  service: string;
  baseUrl: string;
  token?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class ApiClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: ApiClientOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  get<T>(path: string, query?: Record<string, QueryValue>): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path, {});
  }

  /** The parsed JSON answer of a 2xx (undefined for an empty one, e.g. 204). */
  async request<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const response = await this.send(method, path, options, AbortSignal.timeout(this.timeoutMs));
    const text = await response.text().catch(() => '');
    return parseJson(text) as T;
  }

  /**
   * A response whose body stays open (Server-Sent Events): the time limit
   * covers the answer's headers only, not the stream.
   */
  async openStream(
    path: string,
    query: Record<string, QueryValue>,
    headers: Record<string, string>,
  ): Promise<ReadableStream<Uint8Array>> {
    const connecting = new AbortController();
    const timer = setTimeout(
      () => connecting.abort(new DOMException('timed out', 'TimeoutError')),
      this.timeoutMs,
    );
    try {
      const response = await this.send('GET', path, { query }, connecting.signal, {
        accept: 'text/event-stream',
        ...headers,
      });
      if (!response.body)
        throw new CliError(`the ${this.options.service} sent no stream`, ExitCode.unavailable);
      return response.body;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The response of a 2xx; any other outcome as a CliError. */
  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
    } catch (error: unknown) {
      throw this.unreachable(error);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    throw this.refused(method, path, response, parseJson(text), text);
  }

  private url(path: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(path, this.options.baseUrl.replace(/\/*$/, '/'));
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  private unreachable(error: unknown): CliError {
    const { service, baseUrl } = this.options;
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new CliError(
        `the ${service} at ${baseUrl} did not answer within ${this.timeoutMs / 1000} s`,
        ExitCode.unavailable,
      );
    }
    const code = errorCode(error);
    return new CliError(
      `cannot reach the ${service} at ${baseUrl} (${code}); is the cluster running? npm start`,
      ExitCode.unavailable,
    );
  }

  private refused(
    method: string,
    path: string,
    response: Response,
    body: unknown,
    text: string,
  ): CliError {
    const { service } = this.options;
    const status = `${response.status} ${response.statusText}`.trim();
    const apiError = isApiErrorBody(body) ? body : undefined;
    const message = apiError?.message ?? (text.trim().slice(0, 200) || status);
    const details = (apiError?.errors ?? []).map((e) => `  ${e.field}: ${e.reason}`);
    if (response.status === 404) {
      return new CliError(`not found: ${message}`, ExitCode.notFound, details);
    }
    if (response.status === 401 || response.status === 403) {
      return new CliError(
        `the ${service} refused ${method} ${path} (${status}): ${message}; pass --token or set ZKS_TOKEN`,
        ExitCode.rejected,
        details,
      );
    }
    if (response.status < 500) {
      return new CliError(
        `the ${service} refused ${method} ${path} (${status}): ${message}`,
        ExitCode.rejected,
        details,
      );
    }
    return new CliError(
      `the ${service} failed ${method} ${path} (${status}): ${message}`,
      ExitCode.unavailable,
      details,
    );
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isApiErrorBody(body: unknown): body is ApiErrorBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ApiErrorBody).message === 'string' &&
    (!('errors' in body) || Array.isArray((body as ApiErrorBody).errors))
  );
}

/** fetch() hides the socket error in `cause` (an AggregateError when both IPv4 and IPv6 failed). */
function errorCode(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const codeOf = (value: unknown): string | undefined => {
    const code = (value as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? code : undefined;
  };
  const nested = (cause as { errors?: unknown[] } | undefined)?.errors?.[0];
  return (
    codeOf(cause) ?? codeOf(nested) ?? (cause instanceof Error ? cause.message : String(cause))
  );
}
