import type { ZkClient } from '@app/zk';
import { subtreeSize } from '../support/znodes';

/**
 * Znodes under the cluster root by top-level branch (`/tasks`, `/assign`, …,
 * each with its whole subtree, `/members/workers` split out one level deeper),
 * so a difference from the baseline says where it is.
 */
export async function znodeCounts(zk: ZkClient): Promise<Record<string, number>> {
  const subtree = (path: string): Promise<number> => subtreeSize(zk, path);
  const counts: Record<string, number> = {};
  for (const top of (await zk.children('/')).children) {
    const path = `/${top}`;
    if (top === 'members' || top === 'election' || top === 'audit') {
      counts[path] = 0;
      for (const child of (await zk.children(path)).children) {
        counts[`${path}/${child}`] = 1 + (await subtree(`${path}/${child}`));
      }
    } else {
      counts[path] = await subtree(path);
    }
  }
  return counts;
}

export function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] ?? 0) === (b[key] ?? 0));
}
