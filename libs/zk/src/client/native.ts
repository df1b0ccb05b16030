import * as zookeeper from 'node-zookeeper-client';
import type { CreateMode, ZkStat } from './types';

/**
 * Everything that touches `node-zookeeper-client` internals lives here. The pure
 * JavaScript client has no read timeout (a silent server is never noticed) and
 * keeps re-dialling a dead session; we add the first and prevent the second.
 */

/** Connection-manager states (ConnectionManager.STATES in the native client). */
const CM = { CONNECTING: 1, CONNECTED: 2, CLOSING: -1, CLOSED: -2 } as const;

interface SocketInternals {
  destroyed: boolean;
  destroy(): void;
  cork(): void;
  uncork(): void;
}

interface ConnectionManagerInternals {
  state: number;
  socket?: SocketInternals;
  connectTimeoutHandler?: NodeJS.Timeout;
  packetQueue: {
    on(event: 'readable', listener: () => void): void;
    removeAllListeners(event: 'readable'): void;
  };
  connect(): void;
  setState(state: number): void;
  onSocketData(buffer: Buffer): void;
  onSocketConnected(): void;
  onPacketQueueReadable(): void;
  on(event: 'state', listener: (state: number) => void): void;
  off(event: 'state', listener: (state: number) => void): void;
}

export interface NativeConnection {
  readonly native: zookeeper.Client;
  /**
   * When the servers last answered this client (or a dial attempt began): a
   * reply or a connect response, not a watch event. Events flow even when
   * nothing this client sends arrives, so they prove nothing about its session.
   */
  lastHeardAt: number;
  /**
   * When the servers last answered a request: they heard this session then at
   * the latest, so it ends one session timeout after it at the latest.
   */
  lastAnsweredAt: number;
  /** True while a socket is up or being set up. */
  isDialling(): boolean;
  /** Drops the socket; the native client re-dials the same session. */
  dropSocket(): void;
  /** Asks the servers to end the session, waiting at most `timeoutMs`. */
  closeSession(timeoutMs: number): Promise<void>;
}

export interface NativeSettings {
  connectString: string;
  sessionTimeoutMs: number;
  reconnectDelayMs: number;
  digest: string | undefined;
  onState(state: zookeeper.State): void;
}

export function createNative(settings: NativeSettings): NativeConnection {
  const native = zookeeper.createClient(settings.connectString, {
    sessionTimeout: settings.sessionTimeoutMs,
    spinDelay: settings.reconnectDelayMs,
    retries: 0,
  });
  if (settings.digest !== undefined) native.addAuthInfo('digest', Buffer.from(settings.digest));
  const manager = internals(native);
  const connection: NativeConnection = {
    native,
    lastHeardAt: Date.now(),
    lastAnsweredAt: Date.now(),
    isDialling: () =>
      manager.socket !== undefined &&
      (manager.state === CM.CONNECTING || manager.state === CM.CONNECTED),
    dropSocket: () => manager.socket?.destroy(),
    closeSession: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function onState(state: number): void {
          if (state === CM.CLOSED) finish();
        }
        function finish(): void {
          clearTimeout(timer);
          manager.off('state', onState);
          resolve();
        }
        manager.on('state', onState);
        native.close();
      }),
  };
  const frames = new FrameSplitter((frame) => {
    if (!isWatchEvent(frame)) {
      connection.lastHeardAt = Date.now();
      connection.lastAnsweredAt = connection.lastHeardAt;
    }
    onSocketData.call(manager, frame);
  });
  const onSocketData = manager.onSocketData;
  manager.onSocketData = function (this: ConnectionManagerInternals, buffer: Buffer) {
    frames.push(buffer, () => this.socket?.destroyed === true);
  };
  const connect = manager.connect;
  manager.connect = function (this: ConnectionManagerInternals) {
    connection.lastHeardAt = Date.now();
    frames.reset();
    connect.call(this);
  };
  batchWrites(manager);
  native.on('state', settings.onState);
  return connection;
}

/** Watch events carry xid -1 (replies their request's xid, a connect response starts with 0). */
const WATCH_EVENT_XID = -1;

function isWatchEvent(frame: Buffer): boolean {
  return frame.length >= 8 && frame.readInt32BE(4) === WATCH_EVENT_XID;
}

/**
 * Silences a native client for good: no more events, no re-dial. Re-dialling an
 * abandoned session could revive it on the servers and keep its ephemeral nodes.
 */
export function abandonNative(connection: NativeConnection): void {
  const { native } = connection;
  native.removeAllListeners();
  const manager = internals(native);
  manager.connect = () => undefined;
  manager.onSocketConnected = function (this: ConnectionManagerInternals) {
    clearTimeout(this.connectTimeoutHandler);
    this.socket?.destroy();
  };
  if (manager.state !== CM.CLOSED) manager.setState(CM.CLOSING);
  clearTimeout(manager.connectTimeoutHandler);
  manager.socket?.destroy();
}

/**
 * The native client writes each request with its own syscall as soon as it is
 * queued. Requests issued in the same turn of the event loop are sent together
 * instead: one corked flush per turn.
 */
function batchWrites(manager: ConnectionManagerInternals): void {
  const flushNow = manager.onPacketQueueReadable;
  let scheduled = false;
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const socket = manager.socket;
      socket?.cork();
      try {
        flushNow.call(manager);
      } finally {
        socket?.uncork();
      }
    });
  };
  manager.packetQueue.removeAllListeners('readable');
  manager.packetQueue.on('readable', schedule);
  manager.onPacketQueueReadable = schedule;
}

/**
 * Cuts the byte stream into whole replies before the native parser sees them:
 * it would otherwise re-copy the unread rest of a large read once per reply.
 */
class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly deliver: (frame: Buffer) => void) {}

  push(chunk: Buffer, stopped: () => boolean): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      let head = this.head(4);
      const frameLength = head.readInt32BE(0) + 4;
      if (this.buffered < frameLength) return;
      head = this.head(frameLength);
      this.chunks[0] = head.subarray(frameLength);
      if (this.chunks[0].length === 0) this.chunks.shift();
      this.buffered -= frameLength;
      this.deliver(head.subarray(0, frameLength));
      if (stopped()) {
        this.reset();
        return;
      }
    }
  }

  reset(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  /** The first chunk, merged with the next ones until it holds `length` bytes. */
  private head(length: number): Buffer {
    if (this.chunks[0].length < length) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }
}

function internals(native: zookeeper.Client): ConnectionManagerInternals {
  return (native as unknown as { connectionManager: ConnectionManagerInternals }).connectionManager;
}

export function toNativeMode(mode: CreateMode): number {
  switch (mode) {
    case 'persistent':
      return zookeeper.CreateMode.PERSISTENT;
    case 'ephemeral':
      return zookeeper.CreateMode.EPHEMERAL;
    case 'persistent_sequential':
      return zookeeper.CreateMode.PERSISTENT_SEQUENTIAL;
    case 'ephemeral_sequential':
      return zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL;
  }
}

/** With credentials, nodes are readable and writable only by the same identity. */
export function toNativeAcl(authenticated: boolean): zookeeper.ACL[] {
  const acls = zookeeper.ACL as unknown as Record<
    'OPEN_ACL_UNSAFE' | 'CREATOR_ALL_ACL',
    zookeeper.ACL[]
  >;
  return authenticated ? acls.CREATOR_ALL_ACL : acls.OPEN_ACL_UNSAFE;
}

export function toStat(stat: zookeeper.Stat): ZkStat {
  const owner = stat.ephemeralOwner.readBigInt64BE(0);
  return {
    czxid: stat.czxid.readBigInt64BE(0),
    mzxid: stat.mzxid.readBigInt64BE(0),
    pzxid: stat.pzxid.readBigInt64BE(0),
    ctime: Number(stat.ctime.readBigInt64BE(0)),
    mtime: Number(stat.mtime.readBigInt64BE(0)),
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    ephemeralOwner: owner === 0n ? null : stat.ephemeralOwner.toString('hex'),
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
  };
}
