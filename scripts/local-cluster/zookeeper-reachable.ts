/** A quick check that ZK_CONNECT points at something listening, before services wait on it. */
import { connect } from 'node:net';

function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** Resolves when at least one server of `host:port[,host:port…][/chroot]` accepts a connection. */
export async function checkReachable(connectString: string, timeoutMs = 3_000): Promise<void> {
  const hosts = connectString.split('/')[0].split(',');
  const servers = hosts.map((entry) => {
    const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(entry.trim());
    return { host: match?.[1] ?? entry, port: Number(match?.[2] ?? 2181) };
  });
  const answers = await Promise.all(servers.map((s) => reachable(s.host, s.port, timeoutMs)));
  if (!answers.some(Boolean)) {
    throw new Error(
      `no ZooKeeper server answers at ZK_CONNECT=${connectString}; start one, or unset ZK_CONNECT ` +
        `and npm start runs its own`,
    );
  }
}
