/** What a node looks like to callers: longs as bigint, times as epoch ms. */
export interface ZkStat {
  /** zxid of the transaction that created the node: unique for the node's lifetime. */
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** Session id (16 hex digits) owning an ephemeral node; null for persistent nodes. */
  ephemeralOwner: string | null;
  dataLength: number;
  numChildren: number;
}

export type CreateMode =
  'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential';

export type NodeData = Buffer | string | null | undefined;

export type WatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

/** A one-shot watch notification (ZooKeeper watches fire once). */
export interface WatchEvent {
  type: WatchEventType;
  /** Path relative to the client's root. */
  path: string;
}

export type Watcher = (event: WatchEvent) => void;

export interface NodeWithData {
  data: Buffer;
  stat: ZkStat;
}

/** One entry of a node's ACL (`world:anyone`, `digest:user:hash`, …) and its permission bits. */
export interface ZkAclEntry {
  scheme: string;
  id: string;
  /** READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16. */
  perms: number;
}

export interface Children {
  children: string[];
  stat: ZkStat;
}

export interface SessionInfo {
  /** 16 hex digits, as ZooKeeper logs it (0x…). */
  sessionId: string;
  /** Negotiated session timeout in milliseconds. */
  timeoutMs: number;
}

export interface SessionCredentials {
  sessionId: Buffer;
  sessionPassword: Buffer;
}

/** One operation of a `multi()`; build them with `Op`. */
export type ZkOp =
  | { type: 'create'; path: string; data?: NodeData; mode?: CreateMode }
  | { type: 'set'; path: string; data: NodeData; version?: number }
  | { type: 'delete'; path: string; version?: number }
  | { type: 'check'; path: string; version?: number };

export type ZkOpResult =
  | { type: 'create'; path: string }
  | { type: 'set'; stat: ZkStat }
  | { type: 'delete' }
  | { type: 'check' };

/** Builders for `multi()` operations. A version of -1 (the default) matches any version. */
export const Op = {
  create(path: string, data?: NodeData, mode: CreateMode = 'persistent'): ZkOp {
    return { type: 'create', path, data, mode };
  },
  set(path: string, data: NodeData, version = -1): ZkOp {
    return { type: 'set', path, data, version };
  },
  delete(path: string, version = -1): ZkOp {
    return { type: 'delete', path, version };
  },
  /** Fails the whole `multi()` unless `path` exists (and has `version`, when given). */
  check(path: string, version = -1): ZkOp {
    return { type: 'check', path, version };
  },
} as const;
