import { NoNodeError, NotEmptyError, type ZkClient } from '@app/zk';
import { ZkLayout } from '@app/contracts';

/**
 * Removes the double barrier of one gang attempt (`/barriers/<task>-<attempt>`
 * and its `ready` node). Members' own nodes are ephemeral: a barrier someone is
 * still inside (NotEmpty) is left alone. The workers remove a barrier when the
 * last member leaves; this catches what they could not (a member that died).
 */
export async function removeBarrier(client: ZkClient, path: string): Promise<boolean> {
  for (const node of [`${path}/ready`, path]) {
    try {
      await client.delete(node);
    } catch (error) {
      if (error instanceof NoNodeError) continue;
      if (error instanceof NotEmptyError) return false;
      throw error;
    }
  }
  return true;
}

/** The barriers every attempt of a gang task may have left. */
export function barrierPaths(taskId: string, attempts: number): string[] {
  const paths: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++)
    paths.push(ZkLayout.barrier(taskId, attempt));
  return paths;
}

/** `<task>-<attempt>` back to its parts (task ids may hold `-`: the attempt is after the last). */
export function parseBarrierName(name: string): { taskId: string; attempt: number } | undefined {
  const cut = name.lastIndexOf('-');
  if (cut <= 0) return undefined;
  const attempt = Number(name.slice(cut + 1));
  if (!Number.isSafeInteger(attempt) || attempt < 1) return undefined;
  return { taskId: name.slice(0, cut), attempt };
}
