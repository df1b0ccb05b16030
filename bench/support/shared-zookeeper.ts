import { TestingServer } from '@app/zk/testing';
import { serverJvmOptions } from './server-jvm';
import { warmStore } from './store-warmup';

/** The ZooKeeper a benchmark runs against: what the reports read of it, and how it ends. */
export interface BenchZooKeeper {
  readonly connectString: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number | undefined;
  close(): Promise<void>;
}

/**
 * `BENCH_ZK_SERVER=<host>:<port>:<pid>`: a ZooKeeper that outlives the
 * benchmark (bench:compare's, serving every run of ours in its window as the
 * peers' Redis and PostgreSQL serve theirs). Each run works under a root of
 * its own and leaves the server running.
 */
const SHARED = 'BENCH_ZK_SERVER';

export function sharedZooKeeper(): BenchZooKeeper | undefined {
  const value = process.env[SHARED];
  if (!value) return undefined;
  const match = /^(.+):(\d+):(\d+)$/.exec(value);
  if (!match) throw new Error(`${SHARED} must be <host>:<port>:<pid>, not ${value}`);
  const [, host, port, pid] = match;
  return {
    connectString: `${host}:${port}`,
    host,
    port: Number(port),
    pid: Number(pid),
    close: async () => undefined,
  };
}

/**
 * A benchmark's own ZooKeeper, with a production server's JVM flags, warmed
 * for `storeWarmupS` seconds by a session of its own (0: a cold server).
 */
export async function startBenchZooKeeper(
  heapMb: number,
  storeWarmupS: number,
  log: (line: string) => void,
): Promise<TestingServer> {
  log(`starting ZooKeeper (fsync on, ${heapMb} MB heap)…`);
  const server = await TestingServer.start({ heapMb, jvmOptions: serverJvmOptions(heapMb) });
  if (storeWarmupS > 0) {
    log(`warming ZooKeeper for ${storeWarmupS} s (its own session)…`);
    await warmStore(server.connectString, storeWarmupS);
  }
  return server;
}

/** A long-running ZooKeeper for the benchmarks a process starts (env: what to give them). */
export async function startSharedZooKeeper(
  heapMb: number,
  storeWarmupS: number,
  log: (line: string) => void,
): Promise<{ server: TestingServer; env: Record<string, string> }> {
  const server = await startBenchZooKeeper(heapMb, storeWarmupS, log);
  return {
    server,
    env: { [SHARED]: `${server.host}:${server.port}:${server.pid ?? 0}` },
  };
}
