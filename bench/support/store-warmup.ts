/**
 * Warms the benchmark's ZooKeeper server before the services start.
 *
 * The peers' stores (Redis, PostgreSQL) are long-running servers when their
 * harness measures them; ours is a JVM started a moment before, whose hot
 * paths are still interpreted or compiled by C1 for the first tens of
 * thousands of requests (a single task took ~7 ms p50 against ~4 ms after
 * 2,000 tasks, ZooKeeper's CPU per request halving meanwhile). The same kinds
 * of requests the services send (create with data, multi, get, children and
 * exists with watches, set, delete) run here from two sessions of their own,
 * under `/store-warmup`, removed afterwards. The services stay cold: they get
 * only their benchmark's own warm-up, as the peers' freshly started workers do.
 */
import { Op, ZkClient } from '@app/zk';

const ROOT = '/store-warmup';
/** Outstanding requests: enough to keep the server's pipeline full without queueing for seconds. */
const LANES = 64;
const PAYLOAD = Buffer.alloc(600, 'x');

/** Sends requests to the server for `seconds`. */
export async function warmStore(connectString: string, seconds: number): Promise<void> {
  // Two sessions: one writes, the other's watches fire (events go to another
  // connection than the writer's, as from a leader to its workers).
  const [writer, reader] = [connect(connectString), connect(connectString)];
  await Promise.all([writer.start(), reader.start()]);
  const lane = async (index: number, deadline: number): Promise<void> => {
    const dir = `${ROOT}/lane-${index}`;
    await writer.mkdirp(`${dir}/notes`);
    await writer.create(`${dir}/member`, PAYLOAD, 'ephemeral');
    const watcher = (): void => {};
    for (let round = 0; Date.now() < deadline; round++) {
      const node = `${dir}/n-${round}`;
      // As a task's life goes: a fenced multi creating a record and a sequential
      // note; watches set and fired; a versioned update; deletes.
      await reader.children(`${dir}/notes`, watcher);
      const [, , note] = await writer.multi([
        Op.check(`${dir}/member`),
        Op.create(node, PAYLOAD),
        Op.create(`${dir}/notes/e-`, PAYLOAD, 'persistent_sequential'),
      ]);
      const { stat } = await reader.get(node, watcher);
      await reader.exists(`${node}-gone`, watcher);
      const notePath = note.type === 'create' ? note.path : '';
      await writer.multi([Op.set(node, PAYLOAD, stat.version), Op.delete(notePath)]);
      await writer.set(node, PAYLOAD);
      await writer.multi([Op.check(`${dir}/member`), Op.delete(node)]);
    }
    await writer.delete(`${dir}/member`);
    await writer.delete(`${dir}/notes`);
  };
  try {
    // Busy first, then one request at a time: the server's paths differ between a
    // full pipeline and a lone request, and code compiled for only one of them is
    // compiled again when the other comes (seen: ~2 s of C2 compiling as the
    // services' first lone tasks came after a busy-only warm-up).
    const start = Date.now();
    const busyUntil = start + seconds * 700;
    await Promise.all(Array.from({ length: LANES }, (_, index) => lane(index, busyUntil)));
    await lane(LANES, start + seconds * 1_000);
    await Promise.all(
      Array.from({ length: LANES + 1 }, (_, index) => writer.delete(`${ROOT}/lane-${index}`)),
    );
    await writer.delete(ROOT);
  } finally {
    await Promise.all([writer.close(), reader.close()]);
  }
}

function connect(connectString: string): ZkClient {
  return new ZkClient({ connectString, root: '/', sessionTimeoutMs: 10_000 });
}

/** The `--store-warmup` flag of the benchmarks that are compared with the peers. */
export const STORE_WARMUP_OPTION = {
  name: 'store-warmup',
  help: 'seconds of ZooKeeper requests (own session) before the services start, as the peers measure long-running stores; 0: a cold server',
  fallback: 15,
} as const;
