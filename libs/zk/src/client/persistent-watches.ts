import type { RootedPaths } from './client-root';
import { WATCH_TYPES } from './native-ops';
import type { Watcher } from './types';

/**
 * The listeners of this client's persistent recursive watches, by watched
 * path. The native client knows only one-shot watches, so every event the
 * servers send passes through here too: an event at or under a watched path is
 * one the servers owe that watch (a connection gets one event per change,
 * whichever of its watches asked for it). Children-changed events are only
 * sent for one-shot child watches: a recursive watch reports each child's
 * creation and deletion itself.
 */
export class PersistentWatches {
  private readonly byPath = new Map<string, Set<Watcher>>();

  constructor(private readonly paths: RootedPaths) {}

  add(path: string, listener: Watcher): void {
    const listeners = this.byPath.get(path);
    if (listeners) listeners.add(listener);
    else this.byPath.set(path, new Set([listener]));
  }

  remove(path: string, listener: Watcher): void {
    const listeners = this.byPath.get(path);
    listeners?.delete(listener);
    if (listeners?.size === 0) this.byPath.delete(path);
  }

  /** An event as the servers sent it: native event type, absolute path. */
  dispatch(nativeType: number, absolutePath: string): void {
    if (this.byPath.size === 0) return;
    const type = WATCH_TYPES[nativeType];
    if (type === undefined || type === 'childrenChanged') return;
    const path = this.paths.relative(absolutePath);
    for (const [watched, listeners] of this.byPath) {
      if (!isAtOrUnder(path, watched)) continue;
      for (const listener of listeners) listener({ type, path });
    }
  }
}

function isAtOrUnder(path: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return path === ancestor || (path.startsWith(ancestor) && path[ancestor.length] === '/');
}
