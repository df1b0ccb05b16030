import type { SessionInfo } from './types';
import type { ZkClient } from './zk-client';

/** Listeners for the client's connection states (see ZkClientEvents), any subset. */
export interface ConnectionStateListeners {
  connected?: (session: SessionInfo) => void;
  suspended?: () => void;
  reconnected?: (session: SessionInfo) => void;
  lost?: (session: SessionInfo) => void;
  closed?: () => void;
}

/**
 * Subscribes `listeners` to the client's connection states; returns the one
 * function that removes them all (a recipe's `close()` calls it). The way every
 * recipe and service follows the session: nothing is hidden, nothing leaks.
 */
export function onConnectionStates(
  client: ZkClient,
  listeners: ConnectionStateListeners,
): () => void {
  const added: Array<() => void> = [];
  const add = <K extends keyof ConnectionStateListeners>(event: K): void => {
    const listener = listeners[event];
    if (!listener) return;
    client.on(event, listener as never);
    added.push(() => client.off(event, listener as never));
  };
  add('connected');
  add('suspended');
  add('reconnected');
  add('lost');
  add('closed');
  return () => {
    for (const remove of added.splice(0)) remove();
  };
}
