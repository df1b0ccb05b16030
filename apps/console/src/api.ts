/**
 * The console's one way to the APIs: the registry at this origin, the
 * scheduler through the registry's `/api/scheduler` proxy. Every call carries
 * the token (when one is set) in the Authorization header; failures become an
 * ApiFailure with the API's field errors, or `unreachable` when no answer
 * came, so the shell can show a banner.
 */
import type { ApiErrorBody, FieldError } from '@app/contracts/dto/scheduler-api';

export const SCHEDULER = '/api/scheduler';
const TOKEN_KEY = 'zks.token';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: readonly FieldError[],
  ) {
    super(message);
  }

  /** No HTTP answer at all (the registry is down or the network is). */
  get unreachable(): boolean {
    return this.status === 0;
  }

  /** The reason given for `field`, if the API named it. */
  reasonFor(field: string): string | undefined {
    return this.errors.find((e) => e.field === field || e.field.startsWith(`${field}.`))?.reason;
  }
}

type Listener = (state: { reachable: boolean; unauthenticated: boolean }) => void;

export class Api {
  private token: string | null;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>) {
    this.token = storage.getItem(TOKEN_KEY);
  }

  get hasToken(): boolean {
    return this.token !== null;
  }

  /** Kept in this tab's session storage only: closing the tab forgets it. */
  setToken(token: string | null): void {
    this.token = token;
    if (token === null) this.storage.removeItem(TOKEN_KEY);
    else this.storage.setItem(TOKEN_KEY, token);
  }

  onHealth(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token === null ? extra : { ...extra, authorization: `Bearer ${this.token}` };
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const search = params.toString();
    return this.call<T>('GET', search ? `${path}?${search}` : path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }

  delete(path: string): Promise<void> {
    return this.call<void>('DELETE', path);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      this.report(false, false);
      throw new ApiFailure(0, `the registry cannot be reached (${(error as Error).message})`, []);
    }
    // A 502/503 from the proxy means the registry answered but no scheduler did.
    this.report(true, response.status === 401);
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const problem = parsed as Partial<ApiErrorBody> | undefined;
      throw new ApiFailure(
        response.status,
        problem?.message ?? `${response.status} ${response.statusText}`,
        Array.isArray(problem?.errors) ? problem.errors : [],
      );
    }
    return parsed as T;
  }

  private report(reachable: boolean, unauthenticated: boolean): void {
    for (const listener of this.listeners) listener({ reachable, unauthenticated });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}
