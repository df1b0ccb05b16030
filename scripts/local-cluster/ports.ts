/** Is a TCP port free to listen on — asked the way the services will listen. */
import { createServer } from 'node:net';

/**
 * True when `port` can be bound on `host`; without a host, on every interface
 * (what Nest's `app.listen(port)` and the gRPC server on 0.0.0.0 do).
 */
export function isPortFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `preferred`, or the next free port above it (within `attempts`). */
export async function firstFreePort(
  preferred: number,
  host?: string,
  attempts = 20,
): Promise<number> {
  for (let port = preferred; port < preferred + attempts && port <= 65535; port += 1) {
    if (await isPortFree(port, host)) return port;
  }
  throw new Error(`no free port from ${preferred} to ${preferred + attempts - 1}`);
}
