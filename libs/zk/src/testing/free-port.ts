/**
 * Free loopback ports for test servers: bind port 0, read the port the kernel
 * chose, close. The port is free when this returns, not reserved: another
 * process can take it before the server binds it (a rare race; the servers
 * report "Address already in use" in their log if it happens).
 */
import { createServer, type Server } from 'node:net';

export const LOOPBACK = '127.0.0.1';

function listenOnEphemeralPort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error(`unexpected listen address: ${String(address)}`);
  }
  return address.port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** One free TCP port on `host` (default 127.0.0.1). */
export async function freePort(host: string = LOOPBACK): Promise<number> {
  const [port] = await freePorts(1, host);
  return port;
}

/**
 * `count` distinct free TCP ports on `host`. All sockets are held open until
 * every port is chosen, so the kernel cannot hand out the same port twice.
 */
export async function freePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`freePorts: count must be a positive integer, got ${count}`);
  }
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      servers.push(await listenOnEphemeralPort(host));
    }
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}
