import * as zookeeper from 'node-zookeeper-client';
import {
  BadArgumentsError,
  ClientClosedError,
  ConnectionLossError,
  NotConnectedError,
  SessionExpiredError,
  ZkCode,
  ZkError,
  fromNative,
} from './errors';
import { parentOf } from './paths';
import { RootedPaths, openAclProblem, pathProblem, resolveRoot } from './client-root';
import { WatcherWrappers } from './native-ops';
import {
  addWatchRequest,
  childrenRequest,
  createRequest,
  deleteRequest,
  existsRequest,
  getAclRequest,
  getRequest,
  multiRequest,
  setRequest,
} from './native-requests';
import { OperationQueue } from './operation-queue';
import type { ZkClientEvents, ZkClientOptions, ZkClientState } from './zk-client-options';
import type { NativeRun, ZkOperationName } from './operation-queue';
import { SessionWatchdog, housekeepingIntervalMs } from './session-watchdog';
import { RetryPolicy, defaultRetryPolicy, withRetry } from './retry';
import { TypedEmitter } from './typed-emitter';
import { NativeConnection, abandonNative, createNative, toNativeAcl, toWireAcl } from './native';
import type { WireAcl } from './wire';
import { PersistentWatches } from './persistent-watches';
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

export type { ZkOperationName } from './operation-queue';
export type { ZkClientEvents, ZkClientOptions, ZkClientState } from './zk-client-options';

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
  /** `acl` for the requests ZkClient encodes itself (`multi`). */
  private readonly wireAcl: WireAcl[];
  private stateValue: ZkClientState = 'latent';
  private connection: NativeConnection | undefined;
  private generation = 0;
  private session: SessionInfo | undefined;
  private readonly paths: RootedPaths;
  private readonly watchers: WatcherWrappers;
  private readonly persistentWatches: PersistentWatches;
  private readonly operations: OperationQueue;
  private readonly watchdog: SessionWatchdog;

  constructor(private readonly config: ZkClientOptions) {
    super();
    const { hosts, root } = resolveRoot(config.connectString, config.root);
    this.root = root;
    this.paths = new RootedPaths(root);
    this.watchers = new WatcherWrappers(this.paths);
    this.persistentWatches = new PersistentWatches(this.paths);
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
    this.wireAcl = toWireAcl(this.acl);
    this.operations = new OperationQueue({
      native: () => this.requireConnection().native,
      absolute: (path) => this.paths.absolute(path),
      onSessionExpired: (generation) =>
        this.onSessionLost(generation, 'a request found it expired'),
      onOperation: config.onOperation,
    });
    this.watchdog = new SessionWatchdog({
      connection: () => this.connection,
      isConnected: () => this.stateValue === 'connected',
      isCurrent: (generation) => generation === this.generation && this.stateValue !== 'closed',
      sessionTimeoutMs: () => this.sessionTimeoutMs,
      sessionLossMarginMs: () => this.sessionLossMarginMs,
      onDeadlinePassed: (generation, reason) => {
        // Still connected as far as the socket goes (nothing came back, or only watch
        // events): the connection is given up first, as if it had dropped, so what
        // was sent fails as connection loss (outcome unknown) and `suspended` precedes `lost`.
        if (this.stateValue === 'connected') this.suspend(generation);
        this.onSessionLost(generation, reason);
      },
      onDisconnectedTick: () => this.failWaitingTooLong(),
    });
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
    return this.operations.sent;
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
    this.watchdog.start(
      housekeepingIntervalMs(this.options.sessionTimeoutMs, this.options.operationTimeoutMs),
    );
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
    this.watchdog.stop();
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      if (wasConnected) await connection.closeSession(Math.min(2_000, this.sessionTimeoutMs));
      abandonNative(connection);
    }
    this.operations.fail(
      () => new ClientClosedError('ZooKeeper client closed', ZkCode.CONNECTION_LOSS),
    );
    this.emit('closed');
    this.removeAllListeners();
  }

  // ---- operations -------------------------------------------------------------

  create(path: string, data?: NodeData, mode: CreateMode = 'persistent'): Promise<string> {
    return this.call('create', path, createRequest(data, mode, this.acl, this.paths));
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
    return this.read('get', path, getRequest(this.watch(watcher)));
  }

  exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    return this.read('exists', path, existsRequest(this.watch(watcher)));
  }

  /** The ACL of a node: who (`scheme:id`) may do what (`perms`, ZooKeeper's bit set). */
  getAcl(path: string): Promise<ZkAclEntry[]> {
    return this.read('getAcl', path, getAclRequest());
  }

  children(path: string, watcher?: Watcher): Promise<Children> {
    return this.read('children', path, childrenRequest(this.watch(watcher)));
  }

  /**
   * A persistent recursive watch (ZooKeeper 3.6+; older servers refuse it,
   * UNIMPLEMENTED): `listener` hears every creation, deletion and data change at
   * or under `path`, not only the next one, until `removeWatch`. The servers keep
   * the watch only while this connection lasts: after each `reconnected` and
   * `connected`, add it again (PersistentWatcher does), and read what may have
   * changed meanwhile. Idempotent, so retried across connection loss.
   */
  addWatch(path: string, listener: Watcher): Promise<void> {
    this.persistentWatches.add(path, listener);
    return this.read('addWatch', path, addWatchRequest());
  }

  /** Stops delivering `path`'s persistent-watch events to `listener` (the servers' watch lasts until the connection ends). */
  removeWatch(path: string, listener: Watcher): void {
    this.persistentWatches.remove(path, listener);
  }

  set(path: string, data: NodeData, version = -1): Promise<ZkStat> {
    return this.call('set', path, setRequest(data, version));
  }

  delete(path: string, version = -1): Promise<void> {
    return this.call('delete', path, deleteRequest(version));
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
    return this.call('multi', ops[0].path, multiRequest(ops, this.wireAcl, this.paths));
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
      onWatchEvent: (type, path) => this.persistentWatches.dispatch(type, path),
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
        this.watchdog.watchDeadline(generation);
        this.log(
          'log',
          resumed ? 'ZooKeeper connection resumed' : 'ZooKeeper session established',
          info,
        );
        this.operations.sendWaiting(generation);
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

  /** Connected → suspended; requests already sent fail as connection loss (outcome unknown). */
  private suspend(generation: number): void {
    this.stateValue = 'suspended';
    this.operations.fail(
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
    this.watchdog.clearDeadline();
    const lost = this.session ?? {
      sessionId: '0000000000000000',
      timeoutMs: this.sessionTimeoutMs,
    };
    const old = this.connection;
    this.stateValue = 'connecting';
    this.session = undefined;
    if (old) abandonNative(old);
    this.operations.fail(
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

  /** Not connected: operations that waited for a connection too long fail, never sent. */
  private failWaitingTooLong(): void {
    const deadline = Date.now() - this.options.operationTimeoutMs;
    this.operations.fail(
      (op) => !op.sent && op.startedAt < deadline,
      () =>
        new NotConnectedError(
          `no ZooKeeper connection for ${this.options.operationTimeoutMs} ms; not sent`,
          ZkCode.CONNECTION_LOSS,
        ),
    );
  }

  /**
   * Throws when `path` (relative to the root) is open to every client
   * (`world:anyone` holds any permission): with a digest, this client's nodes
   * are closed, but a node someone else created beforehand is not, and
   * anyone could add children to it.
   */
  async refuseOpenNode(path: string): Promise<void> {
    const absolute = path === '/' ? this.root : `${this.root === '/' ? '' : this.root}${path}`;
    const problem = openAclProblem(await this.getAcl(path), absolute);
    if (problem) throw problem;
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
    return this.operations.add(
      operation,
      path,
      this.generation,
      this.stateValue === 'connected',
      run,
    );
  }

  private requireConnection(): NativeConnection {
    if (!this.connection)
      throw new ClientClosedError(`ZooKeeper client is ${this.stateValue}`, ZkCode.CONNECTION_LOSS);
    return this.connection;
  }

  private watch(watcher: Watcher | undefined): ((event: zookeeper.Event) => void) | undefined {
    return watcher ? this.watchers.wrap(watcher) : undefined;
  }

  private log(level: 'log' | 'warn', message: string, context?: object): void {
    this.config.logger?.[level](message, context as Record<string, unknown> | undefined);
  }
}
