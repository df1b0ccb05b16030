import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiRole } from './api-roles';
import type { Principal } from './request-principal';

/** One configured token: its name (for audit and logs), role and secret. */
export interface ApiTokenEntry {
  readonly name: string;
  readonly role: ApiRole;
  readonly token: string;
}

interface StoredToken {
  readonly principal: Principal;
  readonly digest: Buffer;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The tokens an API accepts. Only SHA-256 digests are kept; a presented token
 * is hashed and compared with every stored digest in constant time (equal
 * lengths by construction), without stopping at a match, so neither the
 * comparison nor the position of a match shows in the response time.
 */
export class ApiTokens {
  private readonly stored: readonly StoredToken[];

  constructor(entries: readonly ApiTokenEntry[]) {
    this.stored = entries.map((entry) => ({
      principal: Object.freeze({ name: entry.name, role: entry.role }),
      digest: sha256(entry.token),
    }));
  }

  /** No token configured: the API is open. */
  get enabled(): boolean {
    return this.stored.length > 0;
  }

  get names(): string[] {
    return this.stored.map((s) => s.principal.name);
  }

  /** The principal of `presented`, or undefined when it matches no token. */
  verify(presented: string): Principal | undefined {
    const digest = sha256(presented);
    let found: Principal | undefined;
    for (const candidate of this.stored) {
      if (timingSafeEqual(candidate.digest, digest) && found === undefined) {
        found = candidate.principal;
      }
    }
    return found;
  }
}

/** The token of an `Authorization: Bearer <token>` value; undefined for any other shape. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return match?.[1];
}
