import { basename, joinPath } from '../client/paths';
import { Op, type ZkOp } from '../client/types';
import type { ZkClient } from '../client/zk-client';
import { encodeItem, type QueueItem } from './queue-codec';

/**
 * The producer side of a DistributedQueue: writing items at the tail of
 * `items/`, one at a time or in `multi` batches. Needs no consumer state, so it
 * lives apart from the claim and handler flow.
 */

/** Operations per `multi` in `putItems`, and a byte budget well below jute.maxbuffer (1 MB). */
const PUT_BATCH_OPS = 100;
const PUT_BATCH_BYTES = 512 * 1024;

/** Queues one item at the tail of `itemsPath`; resolves with its node name. */
export async function putItem(
  client: ZkClient,
  itemsPath: string,
  item: QueueItem,
): Promise<string> {
  const [name, data] = encodeItem(item);
  return basename(await client.create(joinPath(itemsPath, name), data, 'persistent_sequential'));
}

/**
 * Queues many items in order, in `multi` batches (each batch is atomic, the
 * whole call is not: a failure leaves the earlier batches queued).
 */
export async function putItems(
  client: ZkClient,
  itemsPath: string,
  items: readonly QueueItem[],
): Promise<string[]> {
  const names: string[] = [];
  let batch: ZkOp[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const results = await client.multi(batch);
    for (const result of results) if (result.type === 'create') names.push(basename(result.path));
    batch = [];
    bytes = 0;
  };
  for (const item of items) {
    const [name, data] = encodeItem(item);
    if (
      batch.length >= PUT_BATCH_OPS ||
      (batch.length > 0 && bytes + data.length > PUT_BATCH_BYTES)
    ) {
      await flush();
    }
    batch.push(Op.create(joinPath(itemsPath, name), data, 'persistent_sequential'));
    bytes += data.length + name.length;
  }
  await flush();
  return names;
}
