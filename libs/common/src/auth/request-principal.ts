import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApiRole } from './api-roles';

/** Who made the API call being served: the name of its token, never the token. */
export interface Principal {
  readonly name: string;
  readonly role: ApiRole;
}

const storage = new AsyncLocalStorage<Principal>();

/** Runs `work` (and every async continuation of it) as `principal`. */
export function runAsPrincipal<T>(principal: Principal, work: () => T): T {
  return storage.run(principal, work);
}

/**
 * The token that made the current API call, if any: audit events take its
 * name. Undefined outside an API call (the leader, workers) and when no token
 * is configured.
 */
export function currentPrincipal(): Principal | undefined {
  return storage.getStore();
}
