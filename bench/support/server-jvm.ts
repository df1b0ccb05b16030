/**
 * The JVM flags a benchmark's ZooKeeper runs with: a production server's, not
 * the test harness's (libs/zk/src/testing/server-config.ts: C1 only, SerialGC,
 * a 32 MB initial heap, all chosen to start fast). Added after the harness's
 * flags, so these win:
 *
 * - the C2 compiler, as a server JVM has it (the harness stops at C1);
 * - the JVM's own default collector on a server machine, G1;
 * - the heap pre-sized (`-Xms` = `-Xmx`), as docker-compose.yml's JVMFLAGS
 *   give ZooKeeper. Grown from 32 MB under a benchmark's load, the heap's
 *   collections took a fifth of ZooKeeper's CPU in `bench:e2e`'s measured
 *   window (2026-12-07, 2 interleaved runs each: ZooKeeper 3.8–4.3 CPU-s per
 *   30,000 tasks with the harness's heap, 2.9–3.6 pre-sized).
 */
export function serverJvmOptions(heapMb: number): string[] {
  return ['-XX:TieredStopAtLevel=4', '-XX:-UseSerialGC', '-XX:+UseG1GC', `-Xms${heapMb}m`];
}
