/**
 * TestingCluster: an ensemble of real ZooKeeper servers (default 3) on
 * 127.0.0.1, like Curator's `TestingCluster`, for tests of failover: kill or
 * stop a member, restart it, see who leads.
 *
 * Members are `TestingServer`s with their own temp folder, `myid` file and
 * free client/peer/election ports. Indexes are 0-based (`server(0)` has myid
 * 1). `start()` launches every JVM at once and resolves when a quorum has
 * formed: exactly one leader and every member serving. If a member's JVM
 * exits during start because a port was taken meanwhile, the whole ensemble
 * is started again on new ports (twice at most); any other failure closes
 * what was started and throws with the member's log tail.
 *
 * A quorum needs a majority of members running: with 3, killing one keeps
 * writes working, killing two stops them until one is back.
 */
import { TEMP_DIR_PREFIX } from './cleanup';
import { freePorts, LOOPBACK } from './free-port';
import type { ServerStatus } from './four-letter-word';
import { timing as defaultTiming, type Timing } from './timing';
import {
  TestingServer,
  TestingServerStartError,
  type QuorumPeerAddress,
  type StartOptions,
  type TestingServerOptions,
} from './testing-server';

export interface TestingClusterOptions extends Omit<
  TestingServerOptions,
  'port' | 'quorum' | 'tempDirPrefix' | 'standalone'
> {
  /** Number of members; default 3. */
  size?: number;
  /** Ticks for a follower to connect and sync; default 20 (2 s at the default tick). */
  initLimit?: number;
  /** Ticks a follower may lag; default 10 (1 s at the default tick). */
  syncLimit?: number;
}

export interface QuorumView {
  leaderIndex: number;
  /** Indexes of members serving (leader and followers). */
  serving: number[];
  statuses: (ServerStatus | undefined)[];
}

export interface WaitForQuorumOptions {
  /** Nominal (scaled) timeout; default 30 s. */
  timeoutMs?: number;
  /** Also wait until every running member serves (default true); else a majority is enough. */
  allRunningServing?: boolean;
}

const BIND_CONFLICT = /Address already in use|BindException/;
const PORT_ATTEMPTS = 3;

export class TestingCluster {
  readonly size: number;
  private readonly timing: Timing;
  private members: TestingServer[] = [];
  private state: 'latent' | 'started' | 'closed' = 'latent';

  constructor(private readonly options: TestingClusterOptions = {}) {
    this.size = options.size ?? 3;
    if (!Number.isInteger(this.size) || this.size < 1) {
      throw new Error(`TestingCluster: size must be a positive integer, got ${this.size}`);
    }
    this.timing = options.timing ?? defaultTiming;
  }

  /** Creates and starts an ensemble. */
  static async start(options: TestingClusterOptions = {}): Promise<TestingCluster> {
    const cluster = new TestingCluster(options);
    await cluster.start();
    return cluster;
  }

  /** Votes needed for a quorum. */
  get majority(): number {
    return Math.floor(this.size / 2) + 1;
  }

  get servers(): readonly TestingServer[] {
    return this.members;
  }

  /** Every member: "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3". */
  get connectString(): string {
    return this.connectStringOf(this.members.map((_, index) => index));
  }

  /** Only some members, e.g. to pin a client to one server. */
  connectStringOf(indexes: readonly number[]): string {
    return indexes.map((index) => this.server(index).connectString).join(',');
  }

  server(index: number): TestingServer {
    const member = this.members[index];
    if (member === undefined) {
      throw new Error(
        `TestingCluster: no server ${index} (size ${this.size}, started: ${this.state !== 'latent'})`,
      );
    }
    return member;
  }

  async start(): Promise<void> {
    if (this.state !== 'latent') {
      throw new Error(`TestingCluster: start() in state ${this.state}`);
    }
    this.state = 'started';
    for (let attempt = 1; ; attempt += 1) {
      this.members = await this.createMembers();
      try {
        await Promise.all(this.members.map((member) => member.start({ awaitServing: false })));
        await this.waitForQuorum({ timeoutMs: this.options.startTimeoutMs ?? 30_000 });
        return;
      } catch (error: unknown) {
        const logs = this.members
          .map((member) => (member.state === 'latent' ? '' : member.logTail()))
          .join('\n');
        await this.closeMembers();
        if (attempt >= PORT_ATTEMPTS || !BIND_CONFLICT.test(logs)) {
          this.state = 'closed';
          throw error;
        }
      }
    }
  }

  /** SIGTERM one member and wait for its exit. */
  stopServer(index: number): Promise<void> {
    return this.server(index).stop();
  }

  /** SIGKILL one member (a crash) and wait for its exit. */
  killServer(index: number): Promise<void> {
    return this.server(index).kill();
  }

  /**
   * Starts a stopped or killed member again (same ports and data); by default
   * resolves once it serves, which needs a majority of members running.
   */
  async restartServer(index: number, options: StartOptions = {}): Promise<void> {
    await this.server(index).restart(options);
  }

  /** `srvr` of every member, by index (undefined: down or not serving). */
  statuses(): Promise<(ServerStatus | undefined)[]> {
    return Promise.all(this.members.map((member) => member.status()));
  }

  /** Index of the current leader, or undefined while there is none. */
  async leaderIndex(): Promise<number | undefined> {
    const statuses = await this.statuses();
    const leaders = statuses.flatMap((status, index) => (status?.mode === 'leader' ? [index] : []));
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /**
   * Resolves when exactly one member leads and a majority serves (by default:
   * every running member serves). Fails if a member's JVM exited while it was
   * expected to run, or after the (scaled) timeout.
   */
  async waitForQuorum(options: WaitForQuorumOptions = {}): Promise<QuorumView> {
    const allRunning = options.allRunningServing ?? true;
    const timeoutMs = this.timing.ms(options.timeoutMs ?? 30_000);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = this.members.find((member) => member.state === 'running' && !member.isRunning);
      if (dead !== undefined) {
        throw new TestingServerStartError(
          `TestingCluster: member ${dead.connectString} (myid ${dead.myId}) exited unexpectedly`,
          dead.logTail(),
        );
      }
      const statuses = await this.statuses();
      const serving = statuses.flatMap((status, index) =>
        status !== undefined && status.mode !== 'standalone' ? [index] : [],
      );
      const leaders = serving.filter((index) => statuses[index]?.mode === 'leader');
      const running = this.members.filter((member) => member.isRunning).length;
      const enough = serving.length >= this.majority && (!allRunning || serving.length === running);
      if (leaders.length === 1 && enough) {
        return { leaderIndex: leaders[0], serving, statuses };
      }
      if (Date.now() >= deadline) {
        const tails = this.members
          .filter((member) => member.state !== 'latent')
          .map(
            (member) =>
              `--- myid ${member.myId} (${member.connectString}) ---\n${member.logTail(15)}`,
          )
          .join('\n');
        throw new TestingServerStartError(
          `TestingCluster: no quorum of ${this.majority}/${this.size} after ${timeoutMs} ms ` +
            `(modes: ${this.describe(statuses)}; ZK_TEST_TIMING scales this timeout)`,
          tails,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops every member and removes their folders. Safe to call more than once. */
  async close(): Promise<void> {
    this.state = 'closed';
    await this.closeMembers();
  }

  private describe(statuses: readonly (ServerStatus | undefined)[]): string {
    return this.members
      .map((member, index) => {
        const mode = statuses[index]?.mode ?? (member.isRunning ? 'not serving' : 'down');
        return `${index}=${mode}`;
      })
      .join(', ');
  }

  private async closeMembers(): Promise<void> {
    await Promise.all(this.members.map((member) => member.close()));
  }

  private async createMembers(): Promise<TestingServer[]> {
    const ports = await freePorts(3 * this.size);
    const peers: QuorumPeerAddress[] = Array.from({ length: this.size }, (_, index) => ({
      id: index + 1,
      host: LOOPBACK,
      clientPort: ports[3 * index],
      peerPort: ports[3 * index + 1],
      electionPort: ports[3 * index + 2],
    }));
    const { size: _size, initLimit, syncLimit, ...serverOptions } = this.options;
    return peers.map(
      (peer) =>
        new TestingServer({
          ...serverOptions,
          timing: this.timing,
          port: peer.clientPort,
          tempDirPrefix: `${TEMP_DIR_PREFIX}${peer.id}-`,
          quorum: { myId: peer.id, peers, initLimit: initLimit ?? 20, syncLimit: syncLimit ?? 10 },
        }),
    );
  }
}
