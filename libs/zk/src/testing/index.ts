/**
 * Test harness for real ZooKeeper servers (no Docker, no mocks): used by the
 * integration tests of every package as `@app/zk/testing`. Not for production
 * code.
 */
export { cleanupNow, parentDeathGuard, sweepStaleTempDirs, trackedProcessIds } from './cleanup';
export {
  fourLetterWord,
  parseSrvr,
  serverStatus,
  type FourLetterWord,
  type FourLetterWordOptions,
  type ServerMode,
  type ServerStatus,
} from './four-letter-word';
export { freePort, freePorts, LOOPBACK } from './free-port';
export {
  expireSession,
  sessionCredentialsOf,
  type ExpireSessionOptions,
  type SessionCredentials,
} from './session-killer';
export {
  TestingCluster,
  type QuorumView,
  type TestingClusterOptions,
  type WaitForQuorumOptions,
} from './testing-cluster';
export {
  TestingServer,
  TestingServerStartError,
  type ConfigValue,
  type QuorumMembership,
  type QuorumPeerAddress,
  type StartOptions,
  type TestingServerOptions,
  type TestingServerState,
} from './testing-server';
export {
  EventQueue,
  timing,
  Timing,
  TIMING_ENV_VARIABLE,
  WaitTimeoutError,
  type WaitForOptions,
  type WaitForResult,
} from './timing';
export {
  findJava,
  findZooKeeperInstallation,
  isZooKeeperInstalled,
  JavaNotFoundError,
  QUORUM_PEER_MAIN,
  zooKeeperInstallation,
  ZooKeeperNotInstalledError,
  type ZooKeeperInstallation,
  type ZooKeeperLayout,
} from './zookeeper-installation';
export {
  FixtureProcess,
  fixtureChannel,
  type FixtureExit,
  type FixtureOptions,
} from './fixture-process';
export { TcpProxy, type FlowMode } from './tcp-proxy';
