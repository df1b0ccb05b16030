import type { WatchEvent, Watcher } from '../client/types';

// One-shot watch bookkeeping shared by GroupView and GroupMembership: in its own
// file because both recipes use it and it knows nothing of groups.

/**
 * Which one-shot watches are armed, by slot name. This client adds a listener per
 * registration, so a watch is armed again only after it fired. A slot is marked
 * before the read and freed if the read fails (no watch is set by a failed read);
 * tokens keep a late reply or a forgotten session from confusing slots.
 * @internal
 */
export class WatchSlots {
  private readonly armed = new Map<string, number>();
  private nextToken = 0;

  isArmed(slot: string): boolean {
    return this.armed.has(slot);
  }

  async run<R>(
    slot: string,
    read: (watcher: Watcher | undefined) => Promise<R>,
    onFire: (event: WatchEvent) => void,
  ): Promise<R> {
    if (this.armed.has(slot)) return read(undefined);
    const token = ++this.nextToken;
    this.armed.set(slot, token);
    const watcher: Watcher = (event) => {
      if (this.armed.get(slot) !== token) return;
      this.armed.delete(slot);
      onFire(event);
    };
    try {
      return await read(watcher);
    } catch (error) {
      if (this.armed.get(slot) === token) this.armed.delete(slot);
      throw error;
    }
  }

  /** Forgets every slot: after a session loss no watch is left. */
  clear(): void {
    this.armed.clear();
  }
}
