/**
 * How a TestingServer is configured: its options, the zoo.cfg written into its
 * temp folder and the flags of its JVM. Pure text from options, kept apart from
 * the process lifecycle in testing-server.ts (which re-exports the types).
 */
import type { Timing } from './timing';
import type { ZooKeeperInstallation } from './zookeeper-installation';

/** One member of an ensemble, as written in `server.<id>=host:peerPort:electionPort`. */
export interface QuorumPeerAddress {
  id: number;
  host: string;
  clientPort: number;
  peerPort: number;
  electionPort: number;
}

/** Set by TestingCluster: makes the server a quorum member instead of standalone. */
export interface QuorumMembership {
  myId: number;
  peers: readonly QuorumPeerAddress[];
  /** Ticks a follower may take to connect and sync to a leader. */
  initLimit: number;
  /** Ticks a follower may lag behind the leader. */
  syncLimit: number;
}

export type ConfigValue = string | number | boolean;

export interface TestingServerOptions {
  /** Client port; default a free loopback port chosen at start. */
  port?: number;
  /**
   * Run ZooKeeper's standalone mode (`srvr`: standalone) instead of a
   * one-member ensemble (`srvr`: leader). Default false: see the note at the
   * top of testing-server.ts (ZOOKEEPER-5051).
   */
  standalone?: boolean;
  /** Default 100 ms. */
  tickTimeMs?: number;
  /** Default 2 × tickTime (ZooKeeper's own default). */
  minSessionTimeoutMs?: number;
  /** Default 60 000 ms, so a 10 s session is allowed even with a small tick. */
  maxSessionTimeoutMs?: number;
  /** fsync the transaction log (default true); false is faster and loses data on a kill. */
  forceSync?: boolean;
  /** JVM max heap in MB; default 128. */
  heapMb?: number;
  /** Extra zoo.cfg entries (a key=value map, or raw lines). */
  extraConfig?: Readonly<Record<string, ConfigValue>> | readonly string[];
  /** Extra JVM options, after the defaults. */
  jvmOptions?: readonly string[];
  /** Nominal (scaled) time a start may take; default 20 s, 30 s for a quorum member. */
  startTimeoutMs?: number;
  /** Nominal (scaled) time a SIGTERM may take before SIGKILL; default 10 s. */
  stopTimeoutMs?: number;
  /** Where java and ZooKeeper are; default: looked up (see zookeeper-installation.ts). */
  installation?: ZooKeeperInstallation;
  timing?: Timing;
  /** Prefix of the temp folder name under os.tmpdir(); default "zk-test-" (stale-folder sweeps look for it). */
  tempDirPrefix?: string;
  quorum?: QuorumMembership;
}

function configLines(entries: TestingServerOptions['extraConfig']): string[] {
  if (entries === undefined) {
    return [];
  }
  if (Array.isArray(entries)) {
    return [...(entries as readonly string[])];
  }
  return Object.entries(entries as Readonly<Record<string, ConfigValue>>).map(([key, value]) => {
    const text = typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
    return `${key}=${text}`;
  });
}

/** JVM flags of a test server: small, fast to start, tuned for tests. */
export function jvmOptions(
  installation: ZooKeeperInstallation,
  options: TestingServerOptions,
): string[] {
  const heapMb = options.heapMb ?? 128;
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 32)}m`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-Xss512k',
    '-Djava.awt.headless=true',
    '-Djava.net.preferIPv4Stack=true',
    // Leader election re-sends notifications with back-off up to 60 s by
    // default; a restarted member should not wait that long in a test.
    '-Dzookeeper.fastleader.maxNotificationInterval=1000',
    // One thread does all client-socket work, so two connect requests for
    // the same session are never handled at once: with parallel workers, a
    // client reconnecting while expireSession's killer attaches can end up
    // on a connection ZooKeeper no longer tracks, on a dead session, that
    // nothing closes (see session-killer.ts). Plenty for tests.
    '-Dzookeeper.nio.numSelectorThreads=1',
    '-Dzookeeper.nio.numWorkerThreads=0',
    ...installation.loggingJvmOptions,
    ...(options.jvmOptions ?? []),
  ];
}

export interface ZooCfgInput {
  options: TestingServerOptions;
  dataDir: string;
  host: string;
  port: number;
  /** Quorum membership, for a quorum member or a one-member ensemble. */
  membership: QuorumMembership | undefined;
}

/** The zoo.cfg of a test server. */
export function zooCfg(input: ZooCfgInput): string {
  const { options, dataDir, host, port } = input;
  const tickTime = options.tickTimeMs ?? 100;
  const lines = [
    '# written by TestingServer (libs/zk/src/testing)',
    `tickTime=${tickTime}`,
    `dataDir=${dataDir}`,
    `clientPort=${port}`,
    `clientPortAddress=${host}`,
    `minSessionTimeout=${options.minSessionTimeoutMs ?? 2 * tickTime}`,
    `maxSessionTimeout=${options.maxSessionTimeoutMs ?? 60_000}`,
    `forceSync=${options.forceSync === false ? 'no' : 'yes'}`,
    // Many clients of one test come from 127.0.0.1: no per-address limit.
    'maxClientCnxns=0',
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
  ];
  const quorum = input.membership;
  if (quorum !== undefined) {
    lines.push(
      `initLimit=${quorum.initLimit}`,
      `syncLimit=${quorum.syncLimit}`,
      'reconfigEnabled=false',
    );
    if (quorum.peers.length === 1) {
      // Without this, one server line means standalone mode.
      lines.push('standaloneEnabled=false');
    }
    for (const peer of quorum.peers) {
      lines.push(`server.${peer.id}=${peer.host}:${peer.peerPort}:${peer.electionPort}`);
    }
  }
  lines.push(...configLines(options.extraConfig));
  return `${lines.join('\n')}\n`;
}
