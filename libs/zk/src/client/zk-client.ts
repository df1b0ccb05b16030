import { performance } from 'node:perf_hooks';
import * as zookeeper from 'node-zookeeper-client';
import {
  BadArgumentsError,
  ClientClosedError,
  ConnectionLossError,
  NotConnectedError,
  OpenAclError,
  SessionExpiredError,
  ZkCode,
  ZkError,
  errorForCode,
  fromNative,
} from './errors';
import { normaliseRoot, parentOf } from './paths';
import type { StructuredLogger } from './logger';
import { RetryPolicy, defaultRetryPolicy, withRetry } from './retry';
import { TypedEmitter } from './typed-emitter';
import {
  NativeConnection,
  abandonNative,
  createNative,
  toNativeAcl,
  toNativeMode,
  toStat,
} from './native';
import type {
  Children,
  CreateMode,
  NodeData,
  NodeWithData,
  SessionCredentials,
  SessionInfo,
  Watcher,
  ZkOp,
  ZkAclEntry,
  ZkOpResult,
  ZkStat,
} from './types';

export interface ZkClientOptions {
  /** `host:port,host:port…`, optionally with a `/chroot` that `root` is nested under. */
  connectString: string;
  /** Every path of this client is relative to this znode, created at start. Default '/'. */
  root?: string;
  /** Requested session timeout; the server may negotiate it within its bounds. Default 10 s. */
  sessionTimeoutMs?: number;
  /** Upper bound of the random pause between rounds of reconnect attempts. Default 100 ms. */
  reconnectDelayMs?: number;
  /** How long `start()` waits for the first session. Default 2 × session timeout. */
  connectTimeoutMs?: number;
  /** How long an operation may wait while no connection is up. Default: the session timeout. */
  operationTimeoutMs?: number;
  /** Retries of idempotent operations (reads) after a connection loss. */
  retry?: Partial<RetryPolicy>;
  /** `user:password` for the digest scheme; nodes are then created readable only by it. */
  digest?: string;
  logger?: StructuredLogger;
  /**
   * Called once per operation when it settles (for metrics): its name, the time
   * from the call to the outcome (waiting for a connection included), and the
   * error it failed with, if any. Must not throw.
   */
  onOperation?: (operation: ZkOperationName, durationMs: number, error?: ZkError) => void;
}

export type ZkOperationName =
  'create' | 'get' | 'exists' | 'children' | 'set' | 'delete' | 'multi' | 'getAcl';

export type ZkClientState = 'latent' | 'connecting' | 'connected' | 'suspended' | 'closed';

export interface ZkClientEvents {
  [event: string]: unknown[];
  /** A session was established: the first one, or a new one after `lost`. */
  connected: [SessionInfo];
  /** The connection dropped; the session may still be alive on the servers. */
  suspended: [];
  /** The connection is back on the same session: ephemeral nodes and watches are intact. */
  reconnected: [SessionInfo];
  /** The session ended: its ephemeral nodes and watches are gone. A new session follows. */
  lost: [SessionInfo];
  /** The servers refused the credentials; the client closes itself. */
  authFailed: [];
  closed: [];
}

interface PendingOperation {
  generation: number;
  startedAt: number;
  /** Handed to the native client; until then it waits here for a connection. */
  sent: boolean;
  send(): void;
  reject(error: ZkError): void;
}

/**
 * One ZooKeeper session per process, with a typed promise API.
 *
 * Guarantees: connection state is always surfaced (`suspended`, `reconnected`,
 * `lost`, then `connected` for the replacement session); no operation waits
 * forever (it fails with `ConnectionLossError` after `operationTimeoutMs` without
 * a connection, or `SessionExpiredError` when its session ends); reads are retried
 * across connection loss, writes never are (their outcome is unknown). Work
 * issued while disconnected waits in this client, not on the wire: when it times
 * out it is guaranteed never to be sent.
 *
 * A watcher function registered twice on the same path fires once, as with the
 * Java client: register the same function, not a fresh closure, to get that.
 *
 * Failure detection is client-side too. The client pings whenever its last
 * answered request is a third of the session timeout old, and a connection whose
 * requests go unanswered for 2/3 of the timeout is dropped and re-dialled. The
 * session is reported `lost`, even if no server could say so, a safety margin
 * before the servers can have expired it: at (send time of the last request they
 * answered) + timeout − margin (`sessionLossMarginMs`), connected or not. The
 * servers heard the session no earlier than that send time and expire it no
 * earlier than one timeout after they last heard it, so a process cut off in
 * either direction gives up its session (a worker aborts its handlers, a leader
 * stops acting) before anyone else can see it gone and take its work over.
 * Watch events are not answers: in a one-way partition they still arrive while
 * the servers hear nothing.
 */
export class ZkClient extends TypedEmitter<ZkClientEvents> {
  /** Absolute znode every path of this client is relative to. */
  readonly root: string;
  private readonly options: Required<
    Omit<ZkClientOptions, 'root' | 'digest' | 'logger' | 'retry' | 'onOperation'>
  >;
  private readonly retryPolicy: RetryPolicy;
  private readonly acl: zookeeper.ACL[];
  private stateValue: ZkClientState = 'latent';
  private connection: NativeConnection | undefined;
  private generation = 0;
  private session: SessionInfo | undefined;
  private readonly pending = new Map<number, PendingOperation>();
  private readonly watcherWrappers = new WeakMap<Watcher, (event: zookeeper.Event) => void>();
  private nextOperationId = 0;
  /** Armed while a session lives: fires at the latest moment it may still be trusted. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private lastPingAt = 0;
  private housekeeping: NodeJS.Timeout | undefined;
  private readonly sent = new Map<ZkOperationName, number>();

  constructor(private readonly config: ZkClientOptions) {
    super();
    // A chroot in the connect string (`host:port/chroot`) nests the root under it.
    const slash = config.connectString.indexOf('/');
    const hosts = slash < 0 ? config.connectString : config.connectString.slice(0, slash);
    const chroot = slash < 0 ? '/' : normaliseRoot(config.connectString.slice(slash));
    const root = normaliseRoot(config.root);
    this.root = chroot === '/' ? root : root === '/' ? chroot : chroot + root;
    const sessionTimeoutMs = config.sessionTimeoutMs ?? 10_000;
    this.options = {
      connectString: hosts,
      sessionTimeoutMs,
      reconnectDelayMs: config.reconnectDelayMs ?? 100,
      connectTimeoutMs: config.connectTimeoutMs ?? 2 * sessionTimeoutMs,
      operationTimeoutMs: config.operationTimeoutMs ?? sessionTimeoutMs,
    };
    this.retryPolicy = { ...defaultRetryPolicy, ...config.retry };
    this.acl = toNativeAcl(config.digest !== undefined);
  }

  get state(): ZkClientState {
    return this.stateValue;
  }

  get isConnected(): boolean {
    return this.stateValue === 'connected';
  }

  /** The current session, once connected. */
  get sessionInfo(): SessionInfo | undefined {
    return this.session;
  }

  /** Negotiated session timeout (the requested one before the first session). */
  get sessionTimeoutMs(): number {
    return this.session?.timeoutMs ?? this.options.sessionTimeoutMs;
  }

  /**
   * How long before the servers can expire the session the client declares it
   * lost: a fifth of the timeout, at least 500 ms, at most a third of it. It
   * must absorb the lateness of this client's timers on a loaded machine and
   * the time a worker's handlers take to stop once aborted; the cap leaves a
   * healthy connection (a ping answered every third of the timeout) clear of it.
   */
  get sessionLossMarginMs(): number {
    const timeout = this.sessionTimeoutMs;
    return Math.min(Math.max(timeout / 5, 500), timeout / 3);
  }

  /**
   * Requests put on the wire so far, by operation (a `multi` is one, a retried
   * read counts each try): what a benchmark divides by tasks to see the round
   * trips a task costs. Monotonic for the client's life.
   */
  requestsSent(): ReadonlyMap<ZkOperationName, number> {
    return this.sent;
  }

  /** Id and password of the current session: what a test needs to expire it. */
  sessionCredentials(): SessionCredentials {
    const native = this.requireConnection().native;
    return { sessionId: native.getSessionId(), sessionPassword: native.getSessionPassword() };
  }

  /** Opens the first session and creates the root; rejects if none comes up in time. */
  async start(): Promise<void> {
    if (this.stateValue !== 'latent')
      throw new Error(`ZkClient.start() called in state ${this.stateValue}`);
    this.stateValue = 'connecting';
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(
          new ConnectionLossError(
            `no ZooKeeper session with ${this.options.connectString} within ${this.options.connectTimeoutMs} ms`,
            ZkCode.CONNECTION_LOSS,
          ),
        );
      }, this.options.connectTimeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
    this.openSession();
    this.housekeeping = setInterval(() => this.runHousekeeping(), this.housekeepingIntervalMs());
    this.housekeeping.unref();
    try {
      await connected;
      if (this.root !== '/') await this.ensureRoot();
      if (this.config.digest !== undefined) await this.refuseOpenNode('/');
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Ends the session (its ephemeral nodes vanish at once) and fails what is still pending. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const wasConnected = this.stateValue === 'connected';
    this.stateValue = 'closed';
    clearTimeout(this.deadlineTimer);
    clearInterval(this.housekeeping);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      if (wasConnected) await connection.closeSession(Math.min(2_000, this.sessionTimeoutMs));
      abandonNative(connection);
    }
    this.failPending(
      () => new ClientClosedError('ZooKeeper client closed', ZkCode.CONNECTION_LOSS),
    );
    this.emit('closed');
    this.removeAllListeners();
  }

  // ---- operations -------------------------------------------------------------

  create(path: string, data?: NodeData, mode: CreateMode = 'persistent'): Promise<string> {
    return this.call<string>('create', path, (native, abs, done) => {
      native.create(abs, toBuffer(data) as Buffer, this.acl, toNativeMode(mode), (error, created) =>
        done(error, error ? undefined : this.relative(created)),
      );
    });
  }

  /**
   * Creates `path` and any missing parents (persistent); existing nodes are left
   * alone. Idempotent, so retried across connection loss.
   */
  async mkdirp(path: string): Promise<void> {
    const segments = path.split('/').filter(Boolean);
    let current = '';
    for (const segment of segments) {
      current += `/${segment}`;
      const node = current;
      if (await this.exists(node)) continue;
      await this.retry(async () => {
        try {
          await this.create(node);
        } catch (error) {
          if (!(error instanceof ZkError && error.code === ZkCode.NODE_EXISTS)) throw error;
        }
      });
    }
  }

  get(path: string, watcher?: Watcher): Promise<NodeWithData> {
    return this.read('get', path, (native, abs, done) => {
      const callback = (
        error: Error | zookeeper.Exception | null,
        data: Buffer,
        stat: zookeeper.Stat,
      ): void =>
        done(error, error ? undefined : { data: data ?? Buffer.alloc(0), stat: toStat(stat) });
      if (watcher) native.getData(abs, this.nativeWatcher(watcher), callback);
      else native.getData(abs, callback);
    });
  }

  exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    return this.read('exists', path, (native, abs, done) => {
      const callback = (error: Error | zookeeper.Exception | null, stat: zookeeper.Stat): void =>
        done(error, error ? undefined : stat ? toStat(stat) : null);
      if (watcher) native.exists(abs, this.nativeWatcher(watcher), callback);
      else native.exists(abs, callback);
    });
  }

  /** The ACL of a node: who (`scheme:id`) may do what (`perms`, ZooKeeper's bit set). */
  getAcl(path: string): Promise<ZkAclEntry[]> {
    return this.read('getAcl', path, (native, abs, done) => {
      native.getACL(abs, (error, acls) =>
        done(
          error,
          error
            ? undefined
            : acls.map((acl) => ({ scheme: acl.id.scheme, id: acl.id.id, perms: acl.perms })),
        ),
      );
    });
  }

  children(path: string, watcher?: Watcher): Promise<Children> {
    return this.read('children', path, (native, abs, done) => {
      const callback = (
        error: Error | zookeeper.Exception | null,
        children: string[],
        stat: zookeeper.Stat,
      ): void => done(error, error ? undefined : { children, stat: toStat(stat) });
      if (watcher) native.getChildren(abs, this.nativeWatcher(watcher), callback);
      else native.getChildren(abs, callback);
    });
  }

  set(path: string, data: NodeData, version = -1): Promise<ZkStat> {
    return this.call<ZkStat>('set', path, (native, abs, done) => {
      native.setData(abs, toBuffer(data) ?? null, version, (error, stat) =>
        done(error, error ? undefined : toStat(stat)),
      );
    });
  }

  delete(path: string, version = -1): Promise<void> {
    return this.call<void>('delete', path, (native, abs, done) => {
      native.remove(abs, version, (error) => done(error, undefined));
    });
  }

  /**
   * Applies every operation atomically, or none. On failure the typed error of the
   * operation that failed is thrown, with `opIndex` set to its position.
   */
  multi(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    if (ops.length === 0) return Promise.resolve([]);
    for (const [index, op] of ops.entries()) {
      const invalid = pathProblem(op.path);
      if (invalid) {
        const error = new BadArgumentsError(invalid, ZkCode.BAD_ARGUMENTS, op.path);
        error.opIndex = index;
        return Promise.reject(error);
      }
    }
    return this.call<ZkOpResult[]>('multi', ops[0].path, (native, _abs, done) => {
      const transaction = native.transaction();
      // Ops are pushed directly: the native builders turn version 0 into -1 (any
      // version), which would silently drop a compare-and-set on a fresh node.
      const nativeOps = (transaction as unknown as { ops: unknown[] }).ops;
      for (const op of ops) nativeOps.push(this.toNativeOp(op));
      transaction.commit(
        (error: Error | zookeeper.Exception | null, results: NativeOpResult[] | undefined) => {
          if (results && results.length === ops.length) {
            const failed = results.findIndex(
              (r) =>
                r.type === NATIVE_ERROR_OP &&
                r.err !== ZkCode.OK &&
                r.err !== ZkCode.RUNTIME_INCONSISTENCY,
            );
            if (failed >= 0) {
              const failure = errorForCode(
                results[failed].err ?? ZkCode.SYSTEM_ERROR,
                ops[failed].path,
              );
              failure.opIndex = failed;
              done(failure, undefined);
              return;
            }
          }
          if (error) {
            done(error, undefined);
            return;
          }
          done(
            null,
            (results ?? []).map((result, i) => this.toOpResult(ops[i], result)),
          );
        },
      );
    });
  }

  /** Runs `operation`, retrying it after connection loss: only for idempotent work. */
  retry<T>(operation: () => Promise<T>): Promise<T> {
    return withRetry(operation, this.retryPolicy, () => this.stateValue === 'closed');
  }

  // ---- session lifecycle ----------------------------------------------------------

  private openSession(): void {
    const generation = ++this.generation;
    this.connection = createNative({
      connectString: this.options.connectString,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      reconnectDelayMs: this.options.reconnectDelayMs,
      digest: this.config.digest,
      onState: (state) => this.onNativeState(generation, state),
    });
    this.connection.native.connect();
  }

  private onNativeState(generation: number, state: zookeeper.State): void {
    if (generation !== this.generation || this.stateValue === 'closed') return;
    const connection = this.requireConnection();
    switch (state.code) {
      case zookeeper.State.SYNC_CONNECTED.code: {
        const info: SessionInfo = {
          sessionId: connection.native.getSessionId().toString('hex'),
          timeoutMs: connection.native.getSessionTimeout(),
        };
        const resumed =
          this.stateValue === 'suspended' && info.sessionId === this.session?.sessionId;
        this.session = info;
        this.stateValue = 'connected';
        this.watchDeadline(generation);
        this.log(
          'log',
          resumed ? 'ZooKeeper connection resumed' : 'ZooKeeper session established',
          info,
        );
        this.sendWaiting();
        this.emit(resumed ? 'reconnected' : 'connected', info);
        return;
      }
      case zookeeper.State.DISCONNECTED.code: {
        // The deadline armed when the session came up still runs: it ends the session
        // unless a reconnect is answered in time.
        if (this.stateValue === 'connected') this.suspend(generation);
        return;
      }
      case zookeeper.State.EXPIRED.code:
        this.onSessionLost(generation, 'expired by the servers');
        return;
      case zookeeper.State.AUTH_FAILED.code:
        this.log('warn', 'ZooKeeper refused the credentials');
        this.emit('authFailed');
        void this.close();
        return;
      default:
        return;
    }
  }

  /**
   * Declares the session lost at (send time of the last answered request) +
   * timeout − margin. The timer is re-armed lazily: answers only move the
   * deadline later, so it fires, finds the new deadline and sleeps until then.
   */
  private watchDeadline(generation: number): void {
    clearTimeout(this.deadlineTimer);
    const sentAt = this.connection?.answeredRequestSentAt;
    if (sentAt === undefined) return;
    const deadline = sentAt + this.sessionTimeoutMs - this.sessionLossMarginMs;
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      // Still connected as far as the socket goes (nothing came back, or only watch
      // events): the connection is given up first, as if it had dropped, so what
      // was sent fails as connection loss (outcome unknown) and `suspended` precedes `lost`.
      if (this.stateValue === 'connected') this.suspend(generation);
      this.onSessionLost(
        generation,
        `no answer to a request sent in the last ${Math.round(this.sessionTimeoutMs - this.sessionLossMarginMs)} ms: the servers may expire it within ${Math.round(this.sessionLossMarginMs)} ms`,
      );
      return;
    }
    this.deadlineTimer = setTimeout(() => {
      // Timers run before socket reads in a turn of the event loop: after a stall, an
      // answer may be waiting unread. setImmediate decides after this turn's reads.
      setImmediate(() => {
        if (generation === this.generation && this.stateValue !== 'closed')
          this.watchDeadline(generation);
      });
    }, Math.ceil(remaining));
    // The socket keeps a live session's process running, not this timer.
    this.deadlineTimer.unref();
  }

  /** Connected → suspended; requests already sent fail as connection loss (outcome unknown). */
  private suspend(generation: number): void {
    this.stateValue = 'suspended';
    this.failPending(
      (op) => op.sent && op.generation === generation,
      () =>
        new ConnectionLossError(
          'ZooKeeper connection lost, outcome unknown',
          ZkCode.CONNECTION_LOSS,
        ),
    );
    this.log('warn', 'ZooKeeper connection lost; session may survive', {
      sessionId: this.session?.sessionId,
    });
    this.emit('suspended');
  }

  private onSessionLost(generation: number, reason: string): void {
    if (generation !== this.generation || this.stateValue === 'closed') return;
    clearTimeout(this.deadlineTimer);
    const lost = this.session ?? {
      sessionId: '0000000000000000',
      timeoutMs: this.sessionTimeoutMs,
    };
    const old = this.connection;
    this.stateValue = 'connecting';
    this.session = undefined;
    if (old) abandonNative(old);
    this.failPending(
      (op) => op.generation === generation,
      () =>
        new SessionExpiredError(
          `ZooKeeper session 0x${lost.sessionId} ended (${reason})`,
          ZkCode.SESSION_EXPIRED,
        ),
    );
    this.log('warn', 'ZooKeeper session lost', { sessionId: lost.sessionId, reason });
    this.openSession();
    this.emit('lost', lost);
  }

  private housekeepingIntervalMs(): number {
    const { sessionTimeoutMs, operationTimeoutMs } = this.options;
    return Math.max(50, Math.floor(Math.min(sessionTimeoutMs / 10, operationTimeoutMs / 2)));
  }

  /** Pings, drops silent connections and times out operations that wait for one. */
  private runHousekeeping(): void {
    const connection = this.connection;
    if (!connection) return;
    this.pingIfIdle(connection);
    const now = Date.now();
    const readTimeoutMs = (this.sessionTimeoutMs * 2) / 3;
    if (connection.isDialling() && now - connection.lastHeardAt > readTimeoutMs)
      connection.dropSocket();
    if (this.stateValue === 'connected') return;
    const deadline = now - this.options.operationTimeoutMs;
    this.failPending(
      (op) => !op.sent && op.startedAt < deadline,
      () =>
        new NotConnectedError(
          `no ZooKeeper connection for ${this.options.operationTimeoutMs} ms; not sent`,
          ZkCode.CONNECTION_LOSS,
        ),
    );
  }

  /**
   * The native client pings only after a third of the timeout without any
   * traffic, and watch events count as traffic; an answer every third of the
   * timeout keeps the session-loss deadline far from a healthy connection.
   */
  private pingIfIdle(connection: NativeConnection): void {
    if (this.stateValue !== 'connected') return;
    const now = performance.now();
    const interval = this.sessionTimeoutMs / 3;
    const answeredAt = connection.answeredRequestSentAt ?? 0;
    if (now - answeredAt < interval || now - this.lastPingAt < interval) return;
    this.lastPingAt = now;
    connection.ping();
  }

  /**
   * Throws when `path` (relative to the root) is open to every client
   * (`world:anyone` holds any permission): with a digest, this client's nodes
   * are closed, but a node someone else created beforehand is not, and
   * anyone could add children to it.
   */
  async refuseOpenNode(path: string): Promise<void> {
    const acl = await this.getAcl(path);
    if (acl.some((entry) => entry.scheme === 'world' && entry.perms !== 0)) {
      const absolute = path === '/' ? this.root : `${this.root === '/' ? '' : this.root}${path}`;
      throw new OpenAclError(
        `ZooKeeper node ${absolute} is open to every client (world:anyone) although this client authenticates: ` +
          'it was created before authentication or by someone else; close it (zkCli.sh, authenticated: setAcl -R <node> auth::cdrwa) or use a fresh root',
      );
    }
  }

  private async ensureRoot(): Promise<void> {
    const parents: string[] = [];
    for (let p = this.root; p !== '/'; p = parentOf(p)) parents.unshift(p);
    for (const absolute of parents) {
      await new Promise<void>((resolve, reject) => {
        this.requireConnection().native.create(
          absolute,
          this.acl,
          zookeeper.CreateMode.PERSISTENT,
          (error) =>
            !error || (error as zookeeper.Exception).getCode?.() === ZkCode.NODE_EXISTS
              ? resolve()
              : reject(fromNative(error, absolute)),
        );
      });
    }
  }

  // ---- plumbing ------------------------------------------------------------------

  private read<T>(operation: ZkOperationName, path: string, run: NativeRun<T>): Promise<T> {
    return this.retry(() => this.call(operation, path, run));
  }

  private call<T>(operation: ZkOperationName, path: string, run: NativeRun<T>): Promise<T> {
    if (this.stateValue === 'latent' || this.stateValue === 'closed') {
      return Promise.reject(
        new ClientClosedError(
          `ZooKeeper client is ${this.stateValue}`,
          ZkCode.CONNECTION_LOSS,
          path,
        ),
      );
    }
    const invalid = pathProblem(path);
    if (invalid) return Promise.reject(new BadArgumentsError(invalid, ZkCode.BAD_ARGUMENTS, path));
    const id = this.nextOperationId++;
    const generation = this.generation;
    return new Promise<T>((resolve, reject) => {
      const done = (error: unknown, value: T | undefined): void => {
        if (!this.pending.delete(id)) return; // already failed by session loss or timeout
        if (!error) {
          this.config.onOperation?.(operation, Date.now() - pendingOperation.startedAt);
          resolve(value as T);
          return;
        }
        const failure = error instanceof ZkError ? error : fromNative(error, path);
        this.config.onOperation?.(operation, Date.now() - pendingOperation.startedAt, failure);
        reject(failure);
        // A server can keep a connection open on a session it has already ended;
        // the first request to say so is our only notice.
        if (failure instanceof SessionExpiredError)
          this.onSessionLost(generation, 'a request found it expired');
      };
      const pendingOperation: PendingOperation = {
        generation,
        startedAt: Date.now(),
        sent: false,
        // Failed from outside (timeout, session loss): reported like any outcome.
        reject: (failure: ZkError) => {
          this.config.onOperation?.(operation, Date.now() - pendingOperation.startedAt, failure);
          reject(failure);
        },
        send: () => {
          pendingOperation.sent = true;
          this.sent.set(operation, (this.sent.get(operation) ?? 0) + 1);
          try {
            run(this.requireConnection().native, this.absolute(path), done);
          } catch (error) {
            done(fromNative(error, path), undefined);
          }
        },
      };
      this.pending.set(id, pendingOperation);
      // Work issued without a connection waits here rather than in the native
      // client's queue, so that timing it out guarantees it is never sent.
      if (this.stateValue === 'connected') pendingOperation.send();
    });
  }

  /** Sends what waited for a connection, in the order it was issued. */
  private sendWaiting(): void {
    for (const operation of this.pending.values()) {
      if (!operation.sent && operation.generation === this.generation) operation.send();
    }
  }

  private failPending(matches: (op: PendingOperation) => boolean, makeError?: () => ZkError): void;
  private failPending(makeError: () => ZkError): void;
  private failPending(
    first: ((op: PendingOperation) => boolean) | (() => ZkError),
    second?: () => ZkError,
  ): void {
    const matches = second ? (first as (op: PendingOperation) => boolean) : () => true;
    const makeError = second ?? (first as () => ZkError);
    for (const [id, op] of this.pending) {
      if (!matches(op)) continue;
      this.pending.delete(id);
      op.reject(makeError());
    }
  }

  private requireConnection(): NativeConnection {
    if (!this.connection)
      throw new ClientClosedError(`ZooKeeper client is ${this.stateValue}`, ZkCode.CONNECTION_LOSS);
    return this.connection;
  }

  private nativeWatcher(watcher: Watcher): (event: zookeeper.Event) => void {
    // One wrapper per watcher function, so the native client's per-path de-duplication
    // (by function identity) still applies.
    let wrapper = this.watcherWrappers.get(watcher);
    if (!wrapper) {
      wrapper = (event) =>
        watcher({
          type: WATCH_TYPES[event.getType()] ?? 'dataChanged',
          path: this.relative(event.getPath()),
        });
      this.watcherWrappers.set(watcher, wrapper);
    }
    return wrapper;
  }

  private toNativeOp(op: ZkOp): Record<string, unknown> {
    const path = this.absolute(op.path);
    switch (op.type) {
      case 'create':
        return {
          type: NATIVE_OP.create,
          path,
          data: toBuffer(op.data),
          acls: this.acl,
          mode: toNativeMode(op.mode ?? 'persistent'),
        };
      case 'set':
        return { type: NATIVE_OP.set, path, data: toBuffer(op.data), version: op.version ?? -1 };
      case 'delete':
        return { type: NATIVE_OP.delete, path, version: op.version ?? -1 };
      case 'check':
        return { type: NATIVE_OP.check, path, version: op.version ?? -1 };
    }
  }

  private toOpResult(op: ZkOp, result: NativeOpResult): ZkOpResult {
    switch (op.type) {
      case 'create':
        return { type: 'create', path: this.relative(result.path ?? this.absolute(op.path)) };
      case 'set':
        return { type: 'set', stat: toStat(result.stat as zookeeper.Stat) };
      case 'delete':
        return { type: 'delete' };
      case 'check':
        return { type: 'check' };
    }
  }

  private absolute(path: string): string {
    if (this.root === '/') return path;
    return path === '/' ? this.root : this.root + path;
  }

  private relative(path: string): string {
    if (this.root === '/') return path;
    if (path === this.root) return '/';
    return path.startsWith(`${this.root}/`) ? path.slice(this.root.length) : path;
  }

  private log(level: 'log' | 'warn', message: string, context?: object): void {
    this.config.logger?.[level](message, context as Record<string, unknown> | undefined);
  }
}

type NativeRun<T> = (
  native: zookeeper.Client,
  absolutePath: string,
  done: (error: unknown, value: T | undefined) => void,
) => void;

interface NativeOpResult {
  type: number;
  err?: number;
  path?: string;
  stat?: zookeeper.Stat;
}

/** Wire op codes (jute.OP_CODES) of the multi sub-operations. */
const NATIVE_OP = { create: 1, delete: 2, set: 5, check: 13 } as const;
const NATIVE_ERROR_OP = -1;

const WATCH_TYPES: Record<number, 'created' | 'deleted' | 'dataChanged' | 'childrenChanged'> = {
  [zookeeper.Event.NODE_CREATED]: 'created',
  [zookeeper.Event.NODE_DELETED]: 'deleted',
  [zookeeper.Event.NODE_DATA_CHANGED]: 'dataChanged',
  [zookeeper.Event.NODE_CHILDREN_CHANGED]: 'childrenChanged',
};

/** Why `path` is not a valid znode path, or undefined when it is. */
function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'path must start with /';
  if (path.length > 1 && path.endsWith('/')) return 'path must not end with /';
  if (path.includes('//')) return 'path has an empty segment';
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return 'path has a relative segment';
  return undefined;
}

function toBuffer(data: NodeData): Buffer | undefined {
  if (data === null || data === undefined) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
