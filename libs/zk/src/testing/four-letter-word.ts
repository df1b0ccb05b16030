/**
 * ZooKeeper four-letter-word commands (`srvr`, `mntr`, `stat`, `cons`, …):
 * write the four bytes on a fresh TCP connection, read until the server
 * closes it. The server must allow them (`4lw.commands.whitelist=*`, which the
 * test servers set).
 *
 * `serverStatus` parses `srvr`: a server that is up but not part of a working
 * quorum answers "This ZooKeeper instance is not currently serving requests",
 * which is reported as `undefined`, the same as a refused connection.
 */
import { connect } from 'node:net';

export type FourLetterWord =
  | 'conf'
  | 'cons'
  | 'crst'
  | 'dirs'
  | 'dump'
  | 'envi'
  | 'gtmk'
  | 'hash'
  | 'isro'
  | 'mntr'
  | 'ruok'
  | 'srst'
  | 'srvr'
  | 'stat'
  | 'wchc'
  | 'wchp'
  | 'wchs';

export interface FourLetterWordOptions {
  /** Whole-exchange timeout, not scaled (these are local calls). Default 2000 ms. */
  timeoutMs?: number;
}

/** Sends `command` to host:port and resolves with the server's whole answer. */
export function fourLetterWord(
  host: string,
  port: number,
  command: FourLetterWord,
  options: FourLetterWordOptions = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host, port });
    const finish = (error?: Error): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) {
        reject(error);
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`4lw '${command}' to ${host}:${port}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(command));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => finish());
    socket.once('close', () => finish());
    socket.once('error', (error: Error) =>
      finish(new Error(`4lw '${command}' to ${host}:${port}: ${error.message}`)),
    );
  });
}

export type ServerMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

export interface ServerStatus {
  mode: ServerMode;
  /** Znodes in the server's tree (a fresh server has a few under /zookeeper). */
  nodeCount: number;
  /** Last zxid the server has seen, as the hex string it prints (e.g. "0x100000003"). */
  zxid: string;
  connections: number;
  version: string;
}

const MODES: readonly ServerMode[] = ['standalone', 'leader', 'follower', 'observer', 'read-only'];

function field(text: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text);
  return match?.[1].trim();
}

/** Parses a `srvr` answer; `undefined` when the server is not serving. */
export function parseSrvr(text: string): ServerStatus | undefined {
  const mode = field(text, 'Mode');
  if (mode === undefined || !MODES.includes(mode as ServerMode)) {
    return undefined;
  }
  return {
    mode: mode as ServerMode,
    nodeCount: Number(field(text, 'Node count') ?? NaN),
    zxid: field(text, 'Zxid') ?? '',
    connections: Number(field(text, 'Connections') ?? NaN),
    version: field(text, 'Zookeeper version') ?? '',
  };
}

/** `srvr`, parsed; `undefined` when the server is down, unreachable or not serving. */
export async function serverStatus(
  host: string,
  port: number,
  options: FourLetterWordOptions = {},
): Promise<ServerStatus | undefined> {
  try {
    return parseSrvr(await fourLetterWord(host, port, 'srvr', options));
  } catch {
    return undefined;
  }
}
