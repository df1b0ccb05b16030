import { DoubleBarrier, NoNodeError, NotEmptyError, type ZkClient } from '@app/zk';
import { ZkLayout } from '@app/contracts';

/** How long a member that succeeded waits for the others to leave, without a task timeout. */
export const DEFAULT_LEAVE_TIMEOUT_MS = 60_000;

/**
 * The double barrier of one gang attempt, `/barriers/<task>-<attempt>`, with
 * this worker as participant: every member enters before its handler runs, so
 * the gang starts together. The wait has no timeout of its own: the task's
 * timeout timer runs from the start and closes the barrier when it fires (as
 * any abort does), so the wait counts against it.
 */
export function gangBarrier(
  client: ZkClient,
  taskId: string,
  attempt: number,
  memberCount: number,
  workerId: string,
): DoubleBarrier {
  return new DoubleBarrier(client, {
    path: ZkLayout.barrier(taskId, attempt),
    memberCount,
    id: workerId,
  });
}

/**
 * After this member's outcome: a member that succeeded leaves with the others
 * (bounded); any other just goes. Then the barrier's nodes are removed when
 * nobody is left inside (the last one out succeeds; the others find it busy).
 */
export async function releaseGangBarrier(
  client: ZkClient,
  barrier: DoubleBarrier,
  taskId: string,
  attempt: number,
  leave: boolean,
  leaveTimeoutMs: number,
): Promise<void> {
  try {
    if (leave && barrier.isInside) await barrier.leave(leaveTimeoutMs);
  } catch {
    // A member that never leaves (hung, or gone with its session) is not this member's failure.
  } finally {
    await barrier.close();
  }
  const path = ZkLayout.barrier(taskId, attempt);
  for (const node of [`${path}/ready`, path]) {
    try {
      await client.delete(node);
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof NotEmptyError) continue;
      return; // connection trouble: left for the next member, or for retention
    }
  }
}
