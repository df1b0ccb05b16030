/**
 * ZooKeeper heap per live task: the figure behind API_MAX_LIVE_TASKS's default
 * (docs/operations.md, Sizing). Starts a ZooKeeper server, writes N task
 * records as the API does (the record in /tasks, an idempotency key for half
 * of them), and reads the JVM's live heap (`jcmd GC.run`, then
 * `GC.class_histogram` total) before and after.
 *
 *   node -r @swc-node/register bench/zk-heap-per-task.ts [--tasks N] [--payload-bytes B]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { PERSISTENT_PARENTS, ZkLayout } from '@app/contracts';
import { ZkClient, Op } from '@app/zk';
import { TestingServer } from '@app/zk/testing';
import { encodeJson, newTaskRecord } from '@app/store';

function liveHeapBytes(pid: number): number {
  execFileSync('jcmd', [String(pid), 'GC.run']);
  const histogram = execFileSync('jcmd', [String(pid), 'GC.class_histogram'], {
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
  const total = /Total\s+\d+\s+(\d+)/.exec(histogram);
  if (!total) throw new Error('no Total line in the class histogram');
  return Number(total[1]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string', default: '50000' },
      'payload-bytes': { type: 'string', default: '200' },
    },
  });
  const tasks = Number(values.tasks);
  const payload = { data: 'x'.repeat(Number(values['payload-bytes'])) };
  const server = await TestingServer.start({ heapMb: 1024 });
  const client = new ZkClient({ connectString: server.connectString, root: '/zk-scheduler' });
  await client.start();
  try {
    await Promise.all(PERSISTENT_PARENTS.map((path) => client.mkdirp(path)));
    const pid = server.pid!;
    const before = liveHeapBytes(pid);
    let recordBytes = 0;
    for (let start = 0; start < tasks; start += 100) {
      const ops = [];
      for (let i = start; i < Math.min(tasks, start + 100); i += 1) {
        const key = i % 2 === 0 ? `key-${i}` : undefined;
        const record = newTaskRecord(
          { type: 'http', payload, idempotencyKey: key, selector: { labels: { zone: 'eu-1' } } },
          Date.now(),
        );
        const data = encodeJson(record);
        recordBytes += data.length;
        ops.push(Op.create(ZkLayout.task(record.id), data));
        if (key !== undefined) ops.push(Op.create(ZkLayout.idempotency(key), record.id));
      }
      await client.multi(ops);
    }
    const after = liveHeapBytes(pid);
    const perTask = (after - before) / tasks;
    const summary = {
      tasks,
      payloadBytes: Number(values['payload-bytes']),
      recordBytesAvg: Math.round(recordBytes / tasks),
      heapBytesPerTask: Math.round(perTask),
      tasksPerGiB: Math.round(2 ** 30 / perTask),
    };
    console.log(JSON.stringify(summary));
  } finally {
    await client.close();
    await server.close();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
