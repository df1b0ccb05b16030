/**
 * Each slot reaches ZooKeeper through TCP proxies of its own (one per server,
 * kept across the slot's restarts), so a fault can cut one live process off
 * the ensemble without stopping it: both ways (a partition), or one way only.
 * Bytes are held, not dropped, while a link is cut: a connection that lives
 * through the cut gets them late, as TCP would deliver them after a partition.
 */
import { TcpProxy } from '@app/zk/testing';

export const CUT_DIRECTIONS = ['both ways', 'to zookeeper', 'from zookeeper'] as const;
/** Which bytes stop: both, only the process's requests and pings, or only the servers' replies and events. */
export type CutDirection = (typeof CUT_DIRECTIONS)[number];

export class ZkLinks {
  private readonly proxies = new Map<string, TcpProxy[]>();

  constructor(private readonly serverPorts: () => readonly number[]) {}

  /** The connect string slot `id` is given: its own proxies, one per server. */
  async connectString(id: string): Promise<string> {
    let proxies = this.proxies.get(id);
    if (!proxies) {
      proxies = this.serverPorts().map((port) => new TcpProxy(port));
      this.proxies.set(id, proxies);
      await Promise.all(proxies.map((proxy) => proxy.start()));
    }
    return proxies.map((proxy) => proxy.connectString).join(',');
  }

  cut(id: string, direction: CutDirection): void {
    for (const proxy of this.of(id)) {
      if (direction !== 'from zookeeper') proxy.setUpstream('hold');
      if (direction !== 'to zookeeper') proxy.setDownstream('hold');
    }
  }

  heal(id: string): void {
    for (const proxy of this.of(id)) proxy.heal();
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].flat().map((proxy) => proxy.close()));
    this.proxies.clear();
  }

  private of(id: string): TcpProxy[] {
    const proxies = this.proxies.get(id);
    if (!proxies) throw new Error(`slot ${id} has no ZooKeeper links`);
    return proxies;
  }
}
