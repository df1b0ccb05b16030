import { NoNodeError, type ZkClient } from '@app/zk';

/** Znodes below `path` (itself excluded); 0 when it does not exist. */
export async function subtreeSize(zk: ZkClient, path: string): Promise<number> {
  let children: string[];
  try {
    children = (await zk.children(path)).children;
  } catch (error) {
    if (error instanceof NoNodeError) return 0;
    throw error;
  }
  const prefix = path === '/' ? '' : path;
  const below = await Promise.all(children.map((child) => subtreeSize(zk, `${prefix}/${child}`)));
  return children.length + below.reduce((sum, n) => sum + n, 0);
}
