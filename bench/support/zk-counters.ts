import { fourLetterWord } from '@app/zk/testing';

/**
 * What the ZooKeeper server did between two moments, from its own counters:
 * `srvr`'s zxid (its low 32 bits count the transactions of the epoch: one per
 * create/set/delete or per whole `multi`) and `mntr`.
 */
export interface ZkCounters {
  zxid: bigint;
  mntr: Map<string, number>;
}

export interface ZkActivity {
  /** Committed write transactions (a `multi` is one). */
  transactions: number;
  /** Write requests answered (`zk_cnt_updatelatency`: multis and single writes). */
  writeRequests: number;
  /** Read requests answered (`zk_cnt_readlatency`: get, children, exists). */
  readRequests: number;
  /** Every packet received (requests, pings, auth). */
  packetsReceived: number;
  bytesReceived: number;
  /** Bytes of responses sent. */
  responseBytes: number;
  /** fsync calls of the transaction log and their mean duration. */
  fsyncs: number;
  meanFsyncMs: number;
  /** Mean transactions per fsync (group commit). */
  meanSyncBatch: number;
  /** Watches triggered, by kind. */
  childrenWatchesFired: number;
  dataWatchesFired: number;
  /** Znode count and approximate data size (bytes) at the end, and their growth. */
  znodes: number;
  znodesAdded: number;
  dataBytes: number;
  dataBytesAdded: number;
  /** Mean server-side write latency (ms), from `zk_avg_updatelatency` over the interval. */
  meanWriteLatencyMs: number;
}

export async function readZkCounters(host: string, port: number): Promise<ZkCounters> {
  const [srvr, mntr] = await Promise.all([
    fourLetterWord(host, port, 'srvr'),
    fourLetterWord(host, port, 'mntr', { timeoutMs: 5_000 }),
  ]);
  const zxid = /Zxid: (0x[0-9a-f]+)/i.exec(srvr)?.[1];
  if (zxid === undefined) throw new Error(`no zxid in srvr:\n${srvr}`);
  const values = new Map<string, number>();
  for (const line of mntr.split('\n')) {
    const [key, value] = line.split('\t');
    const number = Number(value);
    if (key && value !== undefined && Number.isFinite(number)) values.set(key, number);
  }
  return { zxid: BigInt(zxid), mntr: values };
}

export function zkActivity(before: ZkCounters, after: ZkCounters): ZkActivity {
  const delta = (key: string): number => (after.mntr.get(key) ?? 0) - (before.mntr.get(key) ?? 0);
  const mean = (key: string): number => {
    const count = delta(`zk_cnt_${key}`);
    return count > 0 ? Math.round((delta(`zk_sum_${key}`) / count) * 100) / 100 : 0;
  };
  const low32 = (zxid: bigint): bigint => zxid & 0xffffffffn;
  const sameEpoch = after.zxid >> 32n === before.zxid >> 32n;
  return {
    transactions: Number(sameEpoch ? after.zxid - before.zxid : low32(after.zxid)),
    writeRequests: delta('zk_cnt_updatelatency'),
    readRequests: delta('zk_cnt_readlatency'),
    packetsReceived: delta('zk_packets_received'),
    bytesReceived: delta('zk_bytes_received_count'),
    responseBytes: delta('zk_response_bytes'),
    fsyncs: delta('zk_cnt_fsynctime'),
    meanFsyncMs: mean('fsynctime'),
    meanSyncBatch: mean('sync_processor_batch_size'),
    childrenWatchesFired: delta('zk_sum_node_children_watch_count'),
    dataWatchesFired:
      delta('zk_sum_node_changed_watch_count') +
      delta('zk_sum_node_deleted_watch_count') +
      delta('zk_sum_node_created_watch_count'),
    znodes: after.mntr.get('zk_znode_count') ?? 0,
    znodesAdded: delta('zk_znode_count'),
    dataBytes: after.mntr.get('zk_approximate_data_size') ?? 0,
    dataBytesAdded: delta('zk_approximate_data_size'),
    meanWriteLatencyMs: mean('updatelatency'),
  };
}
