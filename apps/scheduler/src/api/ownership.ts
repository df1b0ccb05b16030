import { currentPrincipal } from '@app/common';
import { ApiError } from '@app/common/api';

/**
 * Who owns what the API creates: the name of the calling token (undefined
 * when the API has no tokens, and then nobody's ownership is checked).
 */
export function callerName(): string | undefined {
  return currentPrincipal()?.name;
}

/**
 * Throws 403 (gRPC PERMISSION_DENIED) unless the caller may act on `what`,
 * owned by `owner`: an `admin` on everything, any other role on what its own
 * token created. Without tokens, everyone may.
 */
export function checkOwner(what: string, owner: string | undefined): void {
  const caller = currentPrincipal();
  if (caller === undefined || caller.role === 'admin' || caller.name === owner) return;
  const whose = owner === undefined ? 'no token' : `token "${owner}"`;
  throw new ApiError(
    'forbidden',
    `token "${caller.name}" (role ${caller.role}) may act only on what it submitted: ${what} belongs to ${whose}`,
    [{ field: 'id', reason: `belongs to ${whose}` }],
  );
}
