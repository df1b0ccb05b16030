import { NoNodeError, sequenceOf, type ZkClient } from '@app/zk';
import { ZkLayout, isTerminal, type TaskRecord } from '@app/contracts';
import { readTask } from '@app/store';
import { isEntryName } from '../audit-drain/outbox-queue';
import { parseBarrierName, removeBarrier } from './barrier-cleanup';

/** Records read at once during a scan (pipelined reads). */
const READ_CHUNK = 500;

export interface FinishedTask {
  id: string;
  finishedAt: number | undefined;
}

/**
 * Every terminal task in `/tasks` (a new drainer's inheritance: tasks whose
 * terminal event an earlier drainer stored), and the outbox watermark: the
 * highest outbox sequence number that existed after the records were read.
 * A terminal task's last event was written in the same transaction as its
 * record, so it is in a node at or below the watermark: once the drain has
 * stored everything up to it, the task's history is complete. -1 when the
 * outbox was empty (everything is stored already).
 */
export async function scanFinishedTasks(
  client: ZkClient,
): Promise<{ finished: FinishedTask[]; watermark: number }> {
  const { children } = await client.children(ZkLayout.tasks);
  const finished: FinishedTask[] = [];
  for (let i = 0; i < children.length; i += READ_CHUNK) {
    const records = await Promise.all(
      children.slice(i, i + READ_CHUNK).map((id) => readRecord(client, id)),
    );
    for (const record of records) {
      if (record && isTerminal(record.state))
        finished.push({ id: record.id, finishedAt: record.finishedAt });
    }
  }
  const outbox = (await client.children(ZkLayout.outbox)).children.filter(isEntryName);
  const watermark = outbox.reduce((max, name) => Math.max(max, sequenceOf(name)), -1);
  return { finished, watermark };
}

/**
 * Removes the gang barriers nothing else will: those of tasks that are gone or
 * finished, and of attempts older than the task's current one. A barrier of a
 * live attempt is left alone. Returns how many were removed.
 */
export async function sweepBarriers(client: ZkClient): Promise<number> {
  let names: string[];
  try {
    names = (await client.children(ZkLayout.barriers)).children;
  } catch (error) {
    if (error instanceof NoNodeError) return 0;
    throw error;
  }
  const records = new Map<string, Promise<TaskRecord | undefined | null>>();
  let removed = 0;
  for (const name of names) {
    const parsed = parseBarrierName(name);
    if (!parsed) continue;
    let record = records.get(parsed.taskId);
    if (!record) records.set(parsed.taskId, (record = readRecord(client, parsed.taskId)));
    const task = await record;
    if (task === null) continue;
    const dead = task === undefined || isTerminal(task.state) || parsed.attempt < task.attempt;
    if (dead && (await removeBarrier(client, `${ZkLayout.barriers}/${name}`))) removed += 1;
  }
  return removed;
}

/** The record; undefined when the task is gone; null when its data is not JSON (left alone). */
async function readRecord(client: ZkClient, id: string): Promise<TaskRecord | undefined | null> {
  try {
    return (await readTask(client, id))?.record;
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
}
