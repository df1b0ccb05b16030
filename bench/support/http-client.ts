import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';

/**
 * One keep-alive connection pool for every request a benchmark sends. Node's
 * `http` rather than `fetch`: undici's fetch costs ~2 ms more per POST on this
 * machine kind (measured: POST /v1/tasks p50 5.5 ms with fetch, 3.4 ms here),
 * time and CPU that belong to the client, not to the scheduler; the peers'
 * harness likewise keeps its Redis and PostgreSQL connections open.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface HttpAnswer {
  status: number;
  text: string;
}

/** Sends one request (a JSON body when given) and reads the whole answer. */
export function sendRequest(url: string, method: string, body?: unknown): Promise<HttpAnswer> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> =
    data === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Closes the pooled connections (at the end of a benchmark). */
export function closeHttpClient(): void {
  agent.destroy();
}
