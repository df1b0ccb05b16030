import { NoNodeError, sortBySequence, type ZkClient } from '@app/zk';
import { ZkLayout, type AuditEvent, type OutboxEntry } from '@app/contracts';
import { decodeJson } from '@app/store';
import { pipelined } from './task-reader';

/**
 * Streams every audit event still in the outbox (no registry drains it in a
 * benchmark) to `visit`, in outbox order, with the commit time of its entry.
 * Entries are read `window` at a time and dropped once visited, so a long run's
 * outbox (tens of MB) is never held whole. Returns the number of entries.
 */
export async function scanOutbox(
  client: ZkClient,
  visit: (event: AuditEvent, committedAt: number) => void,
  window = 200,
): Promise<number> {
  const names = sortBySequence((await client.children(ZkLayout.outbox)).children);
  const pages = Math.ceil(names.length / window);
  for (let page = 0; page < pages; page++) {
    const slice = names.slice(page * window, (page + 1) * window);
    const entries: Array<{ entry: OutboxEntry; ctime: number } | undefined> = new Array(
      slice.length,
    );
    await pipelined(slice.length, window, async (i) => {
      try {
        const { data, stat } = await client.get(`${ZkLayout.outbox}/${slice[i]}`);
        entries[i] = { entry: decodeJson<OutboxEntry>(data), ctime: stat.ctime };
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    });
    for (const item of entries) {
      if (item) for (const event of item.entry.events) visit(event, item.ctime);
    }
  }
  return names.length;
}
