import { NoNodeError, type ZkClient } from '@app/zk';
import { ZkLayout, type TaskRecord } from '@app/contracts';
import { decodeJson } from '@app/store';

/** A task record with the commit time of its last write (the znode's mtime, server clock). */
export interface StoredTask {
  record: TaskRecord;
  /** Epoch ms at which ZooKeeper committed the last write of the task. */
  mtime: number;
  /** Epoch ms at which ZooKeeper committed its creation. */
  ctime: number;
  version: number;
}

/**
 * Reads task records by id, `window` requests in flight; a missing task is
 * `undefined`. Used after a measurement, never during one.
 */
export async function readTasks(
  client: ZkClient,
  ids: readonly string[],
  window = 1_000,
): Promise<Array<StoredTask | undefined>> {
  const found: Array<StoredTask | undefined> = new Array(ids.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const index = next++;
      try {
        const { data, stat } = await client.get(ZkLayout.task(ids[index]));
        found[index] = {
          record: decodeJson<TaskRecord>(data),
          mtime: stat.mtime,
          ctime: stat.ctime,
          version: stat.version,
        };
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        found[index] = undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, ids.length) }, lane));
  return found;
}

/** Runs `operation` over `0..count-1` with at most `window` in flight. */
export async function pipelined(
  count: number,
  window: number,
  operation: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
}
