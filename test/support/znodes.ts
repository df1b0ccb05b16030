import { NoNodeError, type ZkClient } from '@app/zk';

/** Znodes below `path` (itself excluded); 0 when it does not exist. */
export async function subtreeSize(zk: ZkClient, path: string): Promise<number> {
  const children = await childPaths(zk, path);
  const below = await Promise.all(children.map((child) => subtreeSize(zk, child)));
  return children.length + below.reduce((sum, n) => sum + n, 0);
}

/** The paths below `path` (at most `limit`, depth first), to say what a branch holds. */
export async function subtreePaths(zk: ZkClient, path: string, limit = 20): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const child of await childPaths(zk, at)) {
      if (found.length >= limit) return;
      found.push(child);
      await walk(child);
    }
  };
  await walk(path);
  return found;
}

/** The full paths of a node's children; none when it does not exist. */
async function childPaths(zk: ZkClient, path: string): Promise<string[]> {
  try {
    const prefix = path === '/' ? '' : path;
    return (await zk.children(path)).children.map((child) => `${prefix}/${child}`);
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}
