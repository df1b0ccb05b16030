import type { ClusterView } from '@app/contracts/dto/registry-api';
import type { ClusterMessage } from '@app/contracts/proto/registry/v1/registry-messages';

/** Drops unset fields: an unset optional field means "default", as an absent query parameter. */
export function defined(fields: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) result[key] = value;
  return result;
}

export function clusterMessage(view: ClusterView): ClusterMessage {
  return {
    leader: view.leader ?? undefined,
    schedulers: view.schedulers,
    workers: view.workers,
    registries: view.registries,
    drainer: view.drainer ?? undefined,
    stale: view.stale,
    outboxDepth: view.outboxDepth ?? undefined,
    zookeeperState: view.zookeeper.state,
  };
}
