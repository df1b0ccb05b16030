import type { ZkClient } from '@app/zk';
import { fourLetterWord } from '@app/zk/testing';
import { ZkLayout } from '@app/contracts';

/** Packets ZooKeeper received from / sent to each session so far (`cons`). */
export type ConnectionCounters = Map<bigint, { received: number; sent: number }>;

export async function readConnections(host: string, port: number): Promise<ConnectionCounters> {
  const text = await fourLetterWord(host, port, 'cons', { timeoutMs: 5_000 });
  const counters: ConnectionCounters = new Map();
  for (const line of text.split('\n')) {
    const sid = /sid=(0x[0-9a-f]+)/i.exec(line)?.[1];
    const received = /recved=(\d+)/.exec(line)?.[1];
    const sent = /sent=(\d+)/.exec(line)?.[1];
    if (sid && received && sent) {
      counters.set(BigInt(sid), { received: Number(received), sent: Number(sent) });
    }
  }
  return counters;
}

/** Which member (scheduler or worker id) owns each session, from its ephemeral member node. */
export async function sessionOwners(client: ZkClient): Promise<Map<bigint, string>> {
  const owners = new Map<bigint, string>();
  for (const kind of ['schedulers', 'workers'] as const) {
    const { children } = await client.children(ZkLayout.members(kind));
    for (const id of children) {
      const stat = await client.exists(ZkLayout.member(kind, id));
      if (stat?.ephemeralOwner) owners.set(BigInt(`0x${stat.ephemeralOwner}`), id);
    }
  }
  return owners;
}

/** Requests (packets received, pings included) each member sent between two `cons` readings. */
export function requestsByMember(
  before: ConnectionCounters,
  after: ConnectionCounters,
  owners: ReadonlyMap<bigint, string>,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [sid, counters] of after) {
    const name = owners.get(sid) ?? 'other sessions (benchmark, observers)';
    const received = counters.received - (before.get(sid)?.received ?? 0);
    result[name] = (result[name] ?? 0) + received;
  }
  return result;
}
