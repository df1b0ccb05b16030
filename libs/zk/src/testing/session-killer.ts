/**
 * Expires a ZooKeeper session on purpose, the Curator `KillSession` way: a
 * second connection attaches to the victim's session with its id and
 * password and closes it. Closing ends the session on the server, so the
 * victim's next (re)connect is answered "session expired" (it emits
 * `expired`), and its ephemeral nodes are deleted with the close.
 *
 * The race: attaching makes the server drop the victim's connection, and the
 * victim reconnects at once. If its reconnect is handled between the killer's
 * attach and the killer's close, the session ends with the victim's new
 * connection still open on it: the server silently drops every request on
 * such a connection, and a client without a read timeout (like
 * node-zookeeper-client) then stays "connected" forever. So:
 * - In an ensemble the killer attaches through a server the victim is NOT
 *   connected to (found with `cons`): nothing is dropped there, and the
 *   victim's server closes the victim's connection when it applies the close.
 * - Then the servers are asked (`cons`) whether a connection still carries the
 *   session; each one that does gets one more attach, which makes its server
 *   close that connection (the victim reconnects and hears "expired").
 *   `expireSession` resolves only when no server lists the session. This
 *   works because the harness runs each server with a single NIO thread
 *   (see testing-server.ts): with parallel NIO workers, ZooKeeper 3.8 can
 *   lose track of the victim's connection (its map from session id to
 *   connection has one entry per id, and closing the killer's connection
 *   removes the entry that by then is the victim's), and nothing can close
 *   it from outside; against such a server `expireSession` fails with an
 *   explanation instead of resolving.
 * - The killer speaks the wire protocol itself (ConnectRequest and
 *   CloseSession written in one go), so no client library state is involved.
 * Servers that refuse `cons` are not checked.
 *
 * ZooKeeper answers a wrong password the same way as an ended session; the
 * live session's client then keeps re-attaching, and `expireSession` fails
 * saying so.
 */
import { connect as connectSocket } from 'node:net';

import { fourLetterWord } from './four-letter-word';
import { timing as defaultTiming, type Timing } from './timing';

export interface SessionCredentials {
  /** 8 bytes, as `client.getSessionId()` returns it. */
  sessionId: Buffer;
  /** 16 bytes, as `client.getSessionPassword()` returns it. */
  sessionPassword: Buffer;
}

export interface ExpireSessionOptions {
  /** Nominal (scaled) time for the whole operation; default 10 s. */
  timeoutMs?: number;
  timing?: Timing;
}

/** The credentials of a connected `node-zookeeper-client` (or anything shaped like it). */
export function sessionCredentialsOf(client: {
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
}): SessionCredentials {
  return { sessionId: client.getSessionId(), sessionPassword: client.getSessionPassword() };
}

interface HostPort {
  host: string;
  port: number;
}

/**
 * - `expired`: the server says the session does not exist (any more).
 * - `closed`: the session was alive and this attach closed it.
 * - `interrupted`: the attach was cut off before the close was confirmed
 *   (the owner took the session back, or the server is not serving).
 */
type AttachOutcome = 'expired' | 'closed' | 'interrupted';

const CLOSE_SESSION_OP = -11;
const CLOSE_XID = 1;

/** "h1:p1,h2:p2/chroot" → servers (the chroot does not matter here). */
function serversOf(connectString: string): HostPort[] {
  return connectString
    .split('/')[0]
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const colon = entry.lastIndexOf(':');
      return colon < 0
        ? { host: entry, port: 2181 }
        : { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
    });
}

function frame(body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** ConnectRequest (attach to an existing session) followed by CloseSession, as one write. */
function attachAndCloseRequest(credentials: SessionCredentials): Buffer {
  const connect = Buffer.alloc(4 + 8 + 4 + 8 + 4 + 16 + 1);
  let offset = connect.writeInt32BE(0, 0); // protocol version
  offset = connect.writeBigInt64BE(0n, offset); // last zxid seen: 0 is never "ahead" of a server
  offset = connect.writeInt32BE(10_000, offset); // requested timeout; irrelevant, the session is closed
  offset += credentials.sessionId.copy(connect, offset);
  offset = connect.writeInt32BE(16, offset);
  offset += credentials.sessionPassword.copy(connect, offset);
  connect.writeUInt8(0, offset); // not read-only
  const close = Buffer.alloc(8);
  close.writeInt32BE(CLOSE_XID, 0);
  close.writeInt32BE(CLOSE_SESSION_OP, 4);
  return Buffer.concat([frame(connect), frame(close)]);
}

function attachOnce(
  server: HostPort,
  credentials: SessionCredentials,
  timeoutMs: number,
): Promise<AttachOutcome> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    let frames = 0;
    let settled = false;
    const socket = connectSocket({ host: server.host, port: server.port });
    const settle = (outcome: AttachOutcome): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(outcome);
      }
    };
    const timer = setTimeout(() => settle('interrupted'), Math.max(1, timeoutMs));
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(attachAndCloseRequest(credentials)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const body = buffered.subarray(4, 4 + buffered.readInt32BE(0));
        buffered = buffered.subarray(4 + body.length);
        frames += 1;
        if (frames === 1) {
          // ConnectResponse: protocol version, then the negotiated timeout (0: no such session).
          if (body.length < 8 || body.readInt32BE(4) <= 0) {
            settle('expired');
            return;
          }
        } else if (body.length >= 16 && body.readInt32BE(0) === CLOSE_XID) {
          // ReplyHeader of the close: xid, zxid, err.
          settle(body.readInt32BE(12) === 0 ? 'closed' : 'interrupted');
          return;
        }
      }
    });
    socket.once('close', () => settle('interrupted'));
    socket.once('error', () => settle('interrupted'));
  });
}

/** "server remote-address" of a line from `connectionsOf`. */
function connectionKey(line: string): string {
  const [server, remote] = line.split(' ');
  return `${server} ${remote.split('[')[0]}`;
}

/** The `cons` lines, across `servers`, of connections carrying `sessionId`. */
async function connectionsOf(servers: readonly HostPort[], sessionId: bigint): Promise<string[]> {
  const answers = await Promise.all(
    servers.map((server) =>
      fourLetterWord(server.host, server.port, 'cons', { timeoutMs: 1000 }).catch(() => ''),
    ),
  );
  return answers.flatMap((answer, index) =>
    answer
      .split('\n')
      .filter((line) => {
        const match = /sid=0x([0-9a-f]+)/.exec(line);
        return match !== null && BigInt(`0x${match[1]}`) === sessionId;
      })
      .map((line) => `${servers[index].host}:${servers[index].port} ${line.trim()}`),
  );
}

/**
 * Ends the session with these credentials on the server. Resolves once the
 * server answers "expired" to an attach and no server still holds a
 * connection of that session. Rejects after the (scaled) timeout, e.g. when
 * no server of `connectString` is serving.
 */
export async function expireSession(
  connectString: string,
  credentials: SessionCredentials,
  options: ExpireSessionOptions = {},
): Promise<void> {
  if (credentials.sessionId.length !== 8 || credentials.sessionPassword.length !== 16) {
    throw new Error('expireSession: sessionId must be 8 bytes and sessionPassword 16 bytes');
  }
  const clock = options.timing ?? defaultTiming;
  const timeoutMs = clock.ms(options.timeoutMs ?? 10_000);
  const deadline = Date.now() + timeoutMs;
  const sessionId = BigInt(`0x${credentials.sessionId.toString('hex')}`);
  const servers = serversOf(connectString);
  if (servers.length === 0) {
    throw new Error(`expireSession: no server in connect string "${connectString}"`);
  }
  const failure = (why: string): Error =>
    new Error(
      `expireSession: session 0x${sessionId.toString(16)} at ${connectString} not expired within ${timeoutMs} ms: ${why}`,
    );

  // 1. Attach and close until a server says the session does not exist,
  //    preferring servers that do not hold the victim's connection.
  const holding = new Set(
    (await connectionsOf(servers, sessionId)).map((line) => line.split(' ')[0]),
  );
  const order = [
    ...servers.filter((server) => !holding.has(`${server.host}:${server.port}`)),
    ...servers.filter((server) => holding.has(`${server.host}:${server.port}`)),
  ];
  let expired = false;
  for (let attempt = 0; !expired; attempt += 1) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw failure('no server answered the attach (is one serving?)');
    }
    const outcome = await attachOnce(order[attempt % order.length], credentials, left);
    expired = outcome === 'expired';
    if (outcome === 'interrupted') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  // 2. Until no server keeps a connection on the dead session: a connection
  //    left on it (the victim reconnected in the middle of the kill) is closed
  //    by one more attach on its server, and its client then hears "expired".
  //    Two clean looks in a row, so a client caught between two connections
  //    is not missed. A connection that comes back after being closed means
  //    the session is alive after all: "expired" then meant a wrong password.
  let stuck: string[] = [];
  let cleanLooks = 0;
  let reappeared = false;
  const closed = new Set<string>();
  while (Date.now() < deadline) {
    stuck = await connectionsOf(servers, sessionId);
    if (stuck.length === 0) {
      cleanLooks += 1;
      if (cleanLooks >= 2) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    cleanLooks = 0;
    reappeared ||= closed.size > 0 && stuck.some((line) => !closed.has(connectionKey(line)));
    stuck.forEach((line) => closed.add(connectionKey(line)));
    const holders = new Set(stuck.map((line) => line.split(' ')[0]));
    for (const holder of servers.filter((server) => holders.has(`${server.host}:${server.port}`))) {
      await attachOnce(holder, credentials, Math.max(1, deadline - Date.now()));
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw failure(
    reappeared
      ? `a client keeps attaching to the session, so it is alive and the server's "no such session" ` +
          `answer means the password is wrong: ${stuck.join('; ')}`
      : `the session is closed, but a connection still carries it, so its client will not hear ` +
          `"expired" until it gives up on the silent connection: ${stuck.join('; ')}`,
  );
}
