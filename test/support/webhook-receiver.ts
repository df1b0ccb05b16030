/**
 * A real HTTP receiver of webhooks for the tests: records every request it
 * gets (headers, raw body, whether the signature verifies with the secret it
 * is told), answers what the test says, and can stop and start again on the
 * same port (a receiver that is down for a while).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '@app/audit';

export interface ReceivedWebhook {
  path: string;
  event: string;
  delivery: string;
  signature: string;
  body: string;
  /** The body parsed: `{id, type, occurredAt, data}`. */
  json: { id: string; type: string; occurredAt: string; data: Record<string, unknown> };
  at: number;
  /** What the receiver answered (0 until it has). */
  status: number;
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The answer to each request (default 204); may wait. */
  answer: (request: ReceivedWebhook) => number | Promise<number> = () => 204;
  private server: http.Server | undefined;
  private port = 0;

  async start(): Promise<this> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const got: ReceivedWebhook = {
          path: request.url ?? '',
          event: String(request.headers['x-zks-event'] ?? ''),
          delivery: String(request.headers['x-zks-delivery'] ?? ''),
          signature: String(request.headers['x-zks-signature'] ?? ''),
          body,
          json: JSON.parse(body) as ReceivedWebhook['json'],
          at: Date.now(),
          status: 0,
        };
        this.received.push(got);
        void Promise.resolve(this.answer(got))
          .catch(() => 500)
          .then((status) => {
            got.status = status;
            response.writeHead(status).end();
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes the listener and every open connection (the port is kept for a restart). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(path = '/hook'): string {
    if (this.port === 0) throw new Error('start the receiver first');
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Whether every request on `path` is signed with `secret`. */
  allSigned(path: string, secret: string): boolean {
    return this.on(path).every((r) => verifyWebhookSignature(r.signature, r.body, secret));
  }
}
