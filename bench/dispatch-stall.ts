/**
 * Reproduces a dispatch stall found by the throughput benchmark: rounds of
 * no-op tasks (4 batches of 1,000 at once, then idle) on one scheduler and two
 * workers with a small WORKER_CAPACITY. Each round is expected to finish; when
 * one does not, the tasks left are `pending`, no worker holds any assignment
 * and the queue is read: the leader counts the workers as full.
 *
 *   node -r @swc-node/register bench/dispatch-stall.ts --capacity 64 --rounds 20
 *
 * Why (apps/scheduler/src/dispatch): the leader's own assignment `multi`
 * triggers its children watch on `/assign/<worker>`, and ZooKeeper delivers
 * that notification before the multi's reply. WorkerTracker.look() runs on
 * the notification while the new ids are still `inFlight`, so it leaves them
 * out of `confirmed`; if the worker finishes them and deletes the assignments
 * before that listing reaches the server (the leader's read waits behind its
 * own pending writes), the listing neither shows them nor re-arms a watch that
 * could see them go. They stay in `worker.assigned` for good; once every slot
 * of every worker is such a ghost, nothing is assigned again.
 *
 * Prints one line per round, then ONE JSON line `{"bench":"dispatch-stall",...}`.
 */
import { BenchCluster, metricSum, request } from './support/bench-cluster';
import { parseOptions } from './support/cli-options';

const OPTIONS = [
  { name: 'capacity', help: 'WORKER_CAPACITY of each worker', fallback: 64, min: 1 },
  { name: 'rounds', help: 'rounds of 4 × 1,000 tasks', fallback: 20, min: 1 },
  { name: 'stall', help: 'a round with no progress for this long (s) has stalled', fallback: 20 },
] as const;

export interface StallResult {
  bench: 'dispatch-stall';
  capacity: number;
  roundsRun: number;
  /** The first round that did not finish, or null. */
  stalledAt: number | null;
  /** Tasks each worker finished, per round. */
  perRound: number[][];
  /** When stalled: assignment nodes each worker held, and unread queue entries. */
  heldAtStall: Record<string, number> | null;
  queueEntriesAtStall: number | null;
}

async function main(): Promise<void> {
  const options = parseOptions(OPTIONS);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const bench = await BenchCluster.start({
    sessionTimeoutMs: 10_000,
    env: { WORKER_CAPACITY: String(options.capacity) },
    log,
  });
  const result: StallResult = {
    bench: 'dispatch-stall',
    capacity: options.capacity,
    roundsRun: 0,
    stalledAt: null,
    perRound: [],
    heldAtStall: null,
    queueEntriesAtStall: null,
  };
  try {
    await bench.startServices(1, 2);
    const finished = async (): Promise<number[]> =>
      Promise.all(
        bench.workers.map(async (w) =>
          metricSum(
            await (await fetch(w.url('/metrics'))).text(),
            'zks_worker_tasks_succeeded_total',
          ),
        ),
      );
    let before = await finished();
    for (let round = 0; round < options.rounds; round++) {
      result.roundsRun++;
      await Promise.all(
        Array.from({ length: 4 }, () =>
          request(bench.schedulers[0], 'POST', '/v1/tasks/batch', {
            tasks: Array.from({ length: 1_000 }, () => ({ type: 'noop', payload: {} })),
          }),
        ),
      );
      const target = before.reduce((a, b) => a + b, 0) + 4_000;
      let now = await finished();
      let total = now.reduce((a, b) => a + b, 0);
      let progressAt = Date.now();
      while (total < target && Date.now() - progressAt < options.stall * 1_000) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        now = await finished();
        const next = now.reduce((a, b) => a + b, 0);
        if (next !== total) progressAt = Date.now();
        total = next;
      }
      const done = now.map((n, i) => n - before[i]);
      result.perRound.push(done);
      process.stdout.write(`round ${round}: finished per worker ${done.join(' + ')}\n`);
      if (total < target) {
        result.stalledAt = round;
        const zk = await bench.cluster.zk();
        result.heldAtStall = {};
        for (const w of bench.workers) {
          result.heldAtStall[w.memberId] = (
            await zk.children(`/assign/${w.memberId}`)
          ).children.length;
        }
        result.queueEntriesAtStall = (await zk.children('/queue')).children.length;
        process.stdout.write(
          `STALLED in round ${round}: ${target - total} tasks left, assignment nodes held ${JSON.stringify(result.heldAtStall)}, unread queue entries ${result.queueEntriesAtStall}\n`,
        );
        break;
      }
      before = now;
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await bench.close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
