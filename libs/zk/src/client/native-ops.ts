import * as zookeeper from 'node-zookeeper-client';
import { ZkCode, ZkError, errorForCode } from './errors';
import { toNativeMode } from './native';
import { OP, type WireAcl, type WireOp, type WireResult } from './wire';
import type { RootedPaths } from './client-root';
import type { NodeData, WatchEventType, Watcher, ZkOp, ZkOpResult } from './types';

/**
 * Translation between ZkClient's typed shapes and the native client's: node
 * data, `multi` sub-operations and their results, and watch events. Pure
 * mapping, no state beyond the watcher wrappers, so the client itself reads as
 * the session and operation logic only.
 */

export const WATCH_TYPES: Record<number, WatchEventType> = {
  [zookeeper.Event.NODE_CREATED]: 'created',
  [zookeeper.Event.NODE_DELETED]: 'deleted',
  [zookeeper.Event.NODE_DATA_CHANGED]: 'dataChanged',
  [zookeeper.Event.NODE_CHILDREN_CHANGED]: 'childrenChanged',
};

export function toBuffer(data: NodeData): Buffer | undefined {
  if (data === null || data === undefined) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

export function toWireOp(op: ZkOp, paths: RootedPaths, acl: readonly WireAcl[]): WireOp {
  const path = paths.absolute(op.path);
  // An absent version is -1 (any); 0 stays 0, a compare-and-set on a fresh node.
  switch (op.type) {
    case 'create':
      return {
        type: 'create',
        path,
        data: wireData(op.data),
        acl,
        flags: toNativeMode(op.mode ?? 'persistent'),
      };
    case 'set':
      return { type: 'set', path, data: wireData(op.data), version: op.version ?? -1 };
    case 'delete':
    case 'check':
      return { type: op.type, path, version: op.version ?? -1 };
  }
}

function wireData(data: NodeData): Buffer | string | undefined {
  return data === null || data === undefined ? undefined : data;
}

export function toOpResult(op: ZkOp, result: WireResult, paths: RootedPaths): ZkOpResult {
  switch (op.type) {
    case 'create':
      return { type: 'create', path: paths.relative(result.path ?? paths.absolute(op.path)) };
    case 'set':
      return { type: 'set', stat: result.stat! };
    case 'delete':
      return { type: 'delete' };
    case 'check':
      return { type: 'check' };
  }
}

/**
 * The typed error of the sub-operation that made a `multi` fail, with `opIndex`
 * set, or undefined when no result names one.
 */
export function multiFailure(
  ops: readonly ZkOp[],
  results: readonly WireResult[] | undefined,
): ZkError | undefined {
  if (!results || results.length !== ops.length) return undefined;
  const failed = results.findIndex(
    (r) => r.type === OP.error && r.err !== ZkCode.OK && r.err !== ZkCode.RUNTIME_INCONSISTENCY,
  );
  if (failed < 0) return undefined;
  const failure = errorForCode(results[failed].err ?? ZkCode.SYSTEM_ERROR, ops[failed].path);
  failure.opIndex = failed;
  return failure;
}

/** Native watch callbacks for typed watchers, one per watcher function. */
export class WatcherWrappers {
  private readonly wrappers = new WeakMap<Watcher, (event: zookeeper.Event) => void>();

  constructor(private readonly paths: RootedPaths) {}

  wrap(watcher: Watcher): (event: zookeeper.Event) => void {
    // One wrapper per watcher function, so the native client's per-path de-duplication
    // (by function identity) still applies.
    let wrapper = this.wrappers.get(watcher);
    if (!wrapper) {
      wrapper = (event) =>
        watcher({
          type: WATCH_TYPES[event.getType()] ?? 'dataChanged',
          path: this.paths.relative(event.getPath()),
        });
      this.wrappers.set(watcher, wrapper);
    }
    return wrapper;
  }
}
