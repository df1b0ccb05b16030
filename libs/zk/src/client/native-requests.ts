import type * as zookeeper from 'node-zookeeper-client';
import { sendEncoded, toNativeMode, toStat } from './native';
import { multiFailure, toBuffer, toOpResult, toWireOp } from './native-ops';
import { encodeAddWatch, encodeMulti, decodeMultiReply, type WireAcl } from './wire';
import type { RootedPaths } from './client-root';
import type { NativeRun } from './operation-queue';
import type {
  Children,
  CreateMode,
  NodeData,
  NodeWithData,
  ZkAclEntry,
  ZkOp,
  ZkOpResult,
  ZkStat,
} from './types';

/**
 * How each ZkClient operation is issued on the native client and how its
 * callback becomes a typed result: one `NativeRun` per operation, handed to the
 * operation queue, which decides when it runs. ZkClient's public methods stay
 * one-liners over these.
 */

type NativeWatcher = (event: zookeeper.Event) => void;

/** AddWatchMode.PERSISTENT_RECURSIVE. */
const PERSISTENT_RECURSIVE = 1;

export function createRequest(
  data: NodeData,
  mode: CreateMode,
  acl: zookeeper.ACL[],
  paths: RootedPaths,
): NativeRun<string> {
  return (native, abs, done) => {
    native.create(abs, toBuffer(data) as Buffer, acl, toNativeMode(mode), (error, created) =>
      done(error, error ? undefined : paths.relative(created)),
    );
  };
}

export function getRequest(watcher: NativeWatcher | undefined): NativeRun<NodeWithData> {
  return (native, abs, done) => {
    const callback = (
      error: Error | zookeeper.Exception | null,
      data: Buffer,
      stat: zookeeper.Stat,
    ): void =>
      done(error, error ? undefined : { data: data ?? Buffer.alloc(0), stat: toStat(stat) });
    if (watcher) native.getData(abs, watcher, callback);
    else native.getData(abs, callback);
  };
}

export function existsRequest(watcher: NativeWatcher | undefined): NativeRun<ZkStat | null> {
  return (native, abs, done) => {
    const callback = (error: Error | zookeeper.Exception | null, stat: zookeeper.Stat): void =>
      done(error, error ? undefined : stat ? toStat(stat) : null);
    if (watcher) native.exists(abs, watcher, callback);
    else native.exists(abs, callback);
  };
}

export function getAclRequest(): NativeRun<ZkAclEntry[]> {
  return (native, abs, done) => {
    native.getACL(abs, (error, acls) =>
      done(
        error,
        error
          ? undefined
          : acls.map((acl) => ({ scheme: acl.id.scheme, id: acl.id.id, perms: acl.perms })),
      ),
    );
  };
}

export function childrenRequest(watcher: NativeWatcher | undefined): NativeRun<Children> {
  return (native, abs, done) => {
    const callback = (
      error: Error | zookeeper.Exception | null,
      children: string[],
      stat: zookeeper.Stat,
    ): void => done(error, error ? undefined : { children, stat: toStat(stat) });
    if (watcher) native.getChildren(abs, watcher, callback);
    else native.getChildren(abs, callback);
  };
}

export function setRequest(data: NodeData, version: number): NativeRun<ZkStat> {
  return (native, abs, done) => {
    native.setData(abs, toBuffer(data) ?? null, version, (error, stat) =>
      done(error, error ? undefined : toStat(stat)),
    );
  };
}

export function deleteRequest(version: number): NativeRun<void> {
  return (native, abs, done) => {
    native.remove(abs, version, (error) => done(error, undefined));
  };
}

export function multiRequest(
  ops: readonly ZkOp[],
  acl: readonly WireAcl[],
  paths: RootedPaths,
): NativeRun<ZkOpResult[]> {
  return sendEncoded(
    () => encodeMulti(ops.map((op) => toWireOp(op, paths, acl))),
    (reply) => {
      const results = decodeMultiReply(reply);
      const failure = multiFailure(ops, results);
      if (failure) throw failure;
      return results.map((result, i) => toOpResult(ops[i], result, paths));
    },
  );
}

/** A persistent recursive watch on the path (ZooKeeper 3.6+); no reply body. */
export function addWatchRequest(): NativeRun<void> {
  return sendEncoded(
    (absolutePath) => encodeAddWatch(absolutePath, PERSISTENT_RECURSIVE),
    () => undefined,
  );
}
