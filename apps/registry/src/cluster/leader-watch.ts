import { NoNodeError, WatchedRead, type Watcher, type ZkClient } from '@app/zk';
import { ZkLayout, type LeaderInfo } from '@app/contracts';
import { decodeJson } from '@app/store';

/** `/leader` (who leads the schedulers), kept current by a data watch. */
export class LeaderWatch {
  private info: LeaderInfo | undefined;
  private readonly reader: WatchedRead;

  constructor(private readonly client: ZkClient) {
    this.reader = new WatchedRead(client, (watcher) => this.read(watcher));
  }

  get current(): LeaderInfo | undefined {
    return this.info;
  }

  get isStale(): boolean {
    return this.reader.isStale;
  }

  start(): Promise<void> {
    return this.reader.start();
  }

  close(): Promise<void> {
    return this.reader.close();
  }

  private async read(watcher: Watcher): Promise<void> {
    try {
      const { data } = await this.client.get(ZkLayout.leader, watcher);
      this.info = parseLeader(data);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      this.info = undefined;
      // Watch for its creation; if it appeared meanwhile, read it.
      if (await this.client.exists(ZkLayout.leader, watcher)) this.reader.trigger();
    }
  }
}

function parseLeader(data: Buffer): LeaderInfo | undefined {
  try {
    const value = decodeJson<LeaderInfo>(data);
    return typeof value === 'object' && value !== null && typeof value.id === 'string'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}
