/**
 * A TCP proxy between clients and one ZooKeeper server, for faults a real network
 * has and a healthy loopback does not: replies that never arrive, a link that
 * goes silent without closing (partition), connections cut mid-request.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { LOOPBACK } from './free-port';

/** What happens to bytes flowing in one direction. */
export type FlowMode = 'forward' | 'discard' | 'hold';

interface Link {
  client: Socket;
  server: Socket;
  heldDown: Buffer[];
  heldUp: Buffer[];
}

export class TcpProxy {
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private upstreamMode: FlowMode = 'forward';
  private downstreamMode: FlowMode = 'forward';
  private listenPort = 0;
  private forwardedUp = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = LOOPBACK,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => resolve());
    });
    this.server = server;
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new Error('proxy has no TCP address');
    this.listenPort = address.port;
  }

  get port(): number {
    return this.listenPort;
  }

  get connectString(): string {
    return `${LOOPBACK}:${this.listenPort}`;
  }

  get connectionCount(): number {
    return this.links.size;
  }

  /** Client → server bytes forwarded so far (an idle ZooKeeper client sends only 12-byte pings). */
  get upstreamBytes(): number {
    return this.forwardedUp;
  }

  /** Client → server bytes: forwarded, dropped, or held until `forward` again. */
  setUpstream(mode: FlowMode): void {
    this.upstreamMode = mode;
    if (mode === 'forward') for (const link of this.links) flush(link.heldUp, link.server);
  }

  /** Server → client bytes (replies, watch events, pings). */
  setDownstream(mode: FlowMode): void {
    this.downstreamMode = mode;
    if (mode === 'forward') for (const link of this.links) flush(link.heldDown, link.client);
  }

  /** A partition: both directions go silent, no connection is closed. */
  partition(): void {
    this.setUpstream('hold');
    this.setDownstream('hold');
  }

  heal(): void {
    this.setUpstream('forward');
    this.setDownstream('forward');
  }

  /** Cuts every open connection at once (both sides see it closed). */
  dropConnections(): void {
    for (const link of this.links) {
      link.client.destroy();
      link.server.destroy();
    }
    this.links.clear();
  }

  async close(): Promise<void> {
    this.dropConnections();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = connect(this.targetPort, this.targetHost);
    const link: Link = { client, server, heldDown: [], heldUp: [] };
    this.links.add(link);
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.on('data', (chunk) => {
      if (this.upstreamMode === 'forward') this.forwardedUp += chunk.length;
      this.relay(chunk, this.upstreamMode, link.heldUp, server);
    });
    server.on('data', (chunk) => this.relay(chunk, this.downstreamMode, link.heldDown, client));
    const end = (): void => {
      this.links.delete(link);
      client.destroy();
      server.destroy();
    };
    client.on('close', end);
    server.on('close', end);
    client.on('error', end);
    server.on('error', end);
  }

  private relay(chunk: Buffer, mode: FlowMode, held: Buffer[], to: Socket): void {
    if (mode === 'forward') to.write(chunk);
    else if (mode === 'hold') held.push(chunk);
  }
}

function flush(held: Buffer[], to: Socket): void {
  for (const chunk of held.splice(0)) to.write(chunk);
}
