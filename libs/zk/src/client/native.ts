import { performance } from 'node:perf_hooks';
import * as zookeeper from 'node-zookeeper-client';
import type { NativeRun } from './operation-queue';
import type { CreateMode, ZkStat } from './types';
import { setXid, type WireAcl } from './wire';

/**
 * Everything that touches `node-zookeeper-client` internals lives here. The pure
 * JavaScript client has no read timeout (a silent server is never noticed) and
 * keeps re-dialling a dead session; we add the first and prevent the second.
 */

/** Connection-manager states (ConnectionManager.STATES in the native client). */
const CM = { CONNECTING: 1, CONNECTED: 2, CLOSING: -1, CLOSED: -2 } as const;

interface SocketInternals {
  destroyed: boolean;
  write(chunk: Buffer, ...rest: unknown[]): boolean;
  destroy(): void;
  cork(): void;
  uncork(): void;
}

/** A watch event as the native client decodes it (before its WatcherManager dispatches it). */
interface NativeWatchEvent {
  type: number;
  path: string;
}

interface ConnectionManagerInternals {
  state: number;
  watcherManager: { emit(event: NativeWatchEvent): void };
  queue(request: unknown, callback: (error: unknown) => void): void;
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
   * When (monotonic ms, `performance.now()`) this client sent the latest request
   * the servers have answered (a connect request included): the servers heard
   * the session then at the earliest, so they cannot expire it before this plus
   * the session timeout. Undefined until a connect response arrives.
   */
  answeredRequestSentAt: number | undefined;
  /** Queues a ping unless no connection is up; its answer refreshes the measure above. */
  ping(): void;
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
  /**
   * Every watch event the servers send (type as in zookeeper.Event, absolute
   * path), before the native client hands it to its one-shot watchers: the
   * persistent watches' listeners, which the native client does not know.
   */
  onWatchEvent(type: number, path: string): void;
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
    answeredRequestSentAt: undefined,
    ping: () => {
      if (manager.state === CM.CONNECTED && manager.socket && !manager.socket.destroyed)
        manager.socket.write(PING_REQUEST);
    },
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
  const sent = new SendTimes();
  const frames = new FrameSplitter((frame) => {
    // The first frame on a socket answers its connect request; the others carry an xid.
    const sentAt = manager.state === CM.CONNECTING ? sent.answerConnect() : sent.answer(frame);
    if (sentAt !== undefined) {
      connection.lastHeardAt = Date.now();
      connection.answeredRequestSentAt = Math.max(connection.answeredRequestSentAt ?? 0, sentAt);
    }
    replyFrames.set(manager, frame);
    try {
      onSocketData.call(manager, frame);
    } finally {
      replyFrames.delete(manager);
    }
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
  // Bound when the socket is created, so this override is the one called on 'connect'.
  const onSocketConnected = manager.onSocketConnected;
  manager.onSocketConnected = function (this: ConnectionManagerInternals) {
    const socket = this.socket;
    if (socket) {
      // Requests unanswered on an earlier socket never will be.
      sent.reset();
      const write = socket.write;
      socket.write = function (this: SocketInternals, chunk: Buffer, ...rest: unknown[]) {
        // Only the connect request is written before the session is up.
        if (manager.state === CM.CONNECTING) sent.connectSent();
        else sent.requestSent(chunk);
        return write.call(this, chunk, ...rest);
      };
    }
    onSocketConnected.call(this);
  };
  batchWrites(manager);
  const watchers = manager.watcherManager;
  const emit = watchers.emit;
  watchers.emit = function (this: typeof watchers, event: NativeWatchEvent) {
    settings.onWatchEvent(event.type, event.path);
    emit.call(this, event);
  };
  native.on('state', settings.onState);
  return connection;
}

/** What the native reply parser is told a request of ours was: SET_WATCHES has no reply body. */
const SET_WATCHES = 101;
/** The reply frame being parsed, per connection, while the native parser runs on it. */
const replyFrames = new WeakMap<ConnectionManagerInternals, Buffer>();

/**
 * Sends a request ZkClient encodes itself (wire.ts: `multi`, `addWatch`),
 * through the native client's queue so it keeps its place among the requests
 * around it. The native client assigns the xid and pairs the reply; its parser
 * is told SET_WATCHES, so it neither parses the body nor drops the connection
 * on an op code it does not know, and `decode` reads the reply frame itself.
 */
export function sendEncoded<T>(
  encode: (absolutePath: string) => Buffer,
  decode: (reply: Buffer) => T,
): NativeRun<T> {
  return (native, absolutePath, done) => {
    const manager = internals(native);
    // Thrown here, an encoding error fails the call (OperationQueue catches what a run throws).
    const frame = encode(absolutePath);
    const header = { xid: 0, type: SET_WATCHES };
    const request = {
      header,
      payload: null,
      toBuffer: (): Buffer => {
        setXid(frame, header.xid);
        return frame;
      },
    };
    manager.queue(request, (error) => {
      if (error) {
        done(error, undefined);
        return;
      }
      try {
        const reply = replyFrames.get(manager);
        if (reply === undefined) throw new Error('the reply frame was not at hand');
        done(null, decode(reply));
      } catch (failure) {
        done(failure, undefined); // the queue's `done` keeps the first outcome only
      }
    });
  };
}

/** Watch events carry xid -1 (replies their request's xid). */
const WATCH_EVENT_XID = -1;

/** A ping: length 8, xid -2, op code 11 (what the native client sends when idle). */
const PING_REQUEST = Buffer.from([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]);

/**
 * When each request on the current socket was sent, by xid, so that an answer
 * tells when the servers heard this session at the earliest. Watch events
 * answer nothing: they flow even when nothing this client sends arrives.
 * Pings, auth and set-watches packets reuse fixed xids, hence a queue per xid.
 */
class SendTimes {
  private readonly byXid = new Map<number, number[]>();
  private connectSentAt: number | undefined;

  connectSent(): void {
    this.connectSentAt = performance.now();
  }

  requestSent(frame: Buffer): void {
    if (frame.length < 8) return;
    const xid = frame.readInt32BE(4);
    const times = this.byXid.get(xid);
    if (times) times.push(performance.now());
    else this.byXid.set(xid, [performance.now()]);
  }

  answerConnect(): number | undefined {
    const sentAt = this.connectSentAt;
    this.connectSentAt = undefined;
    return sentAt;
  }

  /** The send time of the request `frame` answers; undefined for a watch event. */
  answer(frame: Buffer): number | undefined {
    if (frame.length < 8) return undefined;
    const xid = frame.readInt32BE(4);
    if (xid === WATCH_EVENT_XID) return undefined;
    const times = this.byXid.get(xid);
    const sentAt = times?.shift();
    if (times?.length === 0) this.byXid.delete(xid);
    return sentAt;
  }

  reset(): void {
    this.byXid.clear();
    this.connectSentAt = undefined;
  }
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

/** The same ACL for requests encoded by wire.ts (the native ACL keeps its permissions in `permission`). */
export function toWireAcl(acl: readonly zookeeper.ACL[]): WireAcl[] {
  return acl.map((entry) => ({
    perms: (entry as unknown as { permission: number }).permission,
    scheme: entry.id.scheme,
    id: entry.id.id,
  }));
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
