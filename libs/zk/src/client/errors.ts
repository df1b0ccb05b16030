/**
 * Typed ZooKeeper errors. Callers branch on the class (`instanceof NoNodeError`),
 * never on the native client's numeric codes or message strings.
 *
 * `ConnectionLossError` means the outcome of the operation is unknown: it may or
 * may not have been applied. `SessionExpiredError` means the session that issued
 * the operation is gone, with every ephemeral node and watch it owned.
 */
export class ZkError extends Error {
  constructor(
    message: string,
    /** The ZooKeeper error code (negative), or 0 for client-side errors. */
    readonly code: number,
    /** The path the failing operation addressed, relative to the client's root. */
    readonly path?: string,
  ) {
    super(path === undefined ? message : `${message}: ${path}`);
    this.name = new.target.name;
  }

  /** Index of the failing operation when this error came from `multi()`. */
  opIndex?: number;
}

export class NoNodeError extends ZkError {}
export class NodeExistsError extends ZkError {}
export class BadVersionError extends ZkError {}
export class NotEmptyError extends ZkError {}
export class NoChildrenForEphemeralsError extends ZkError {}
export class NoAuthError extends ZkError {}
export class AuthFailedError extends ZkError {}
export class InvalidAclError extends ZkError {}
export class BadArgumentsError extends ZkError {}
export class ConnectionLossError extends ZkError {}
/**
 * No connection came up within the operation timeout: the operation was never
 * sent, so unlike its parent class its outcome is known (not applied).
 */
export class NotConnectedError extends ConnectionLossError {}
export class SessionExpiredError extends ZkError {}
export class OperationTimeoutError extends ZkError {}
export class ClientClosedError extends ZkError {}
export class SystemError extends ZkError {}

/** Native codes, from the ZooKeeper wire protocol (KeeperException.Code). */
export const ZkCode = {
  OK: 0,
  SYSTEM_ERROR: -1,
  RUNTIME_INCONSISTENCY: -2,
  DATA_INCONSISTENCY: -3,
  CONNECTION_LOSS: -4,
  MARSHALLING_ERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATION_TIMEOUT: -7,
  BAD_ARGUMENTS: -8,
  NO_NODE: -101,
  NO_AUTH: -102,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
  INVALID_ACL: -114,
  AUTH_FAILED: -115,
} as const;

type ZkErrorClass = new (message: string, code: number, path?: string) => ZkError;

const byCode = new Map<number, [ZkErrorClass, string]>([
  [ZkCode.NO_NODE, [NoNodeError, 'node does not exist']],
  [ZkCode.NODE_EXISTS, [NodeExistsError, 'node already exists']],
  [ZkCode.BAD_VERSION, [BadVersionError, 'version does not match']],
  [ZkCode.NOT_EMPTY, [NotEmptyError, 'node has children']],
  [
    ZkCode.NO_CHILDREN_FOR_EPHEMERALS,
    [NoChildrenForEphemeralsError, 'ephemeral nodes cannot have children'],
  ],
  [ZkCode.NO_AUTH, [NoAuthError, 'not authorised']],
  [ZkCode.AUTH_FAILED, [AuthFailedError, 'authentication failed']],
  [ZkCode.INVALID_ACL, [InvalidAclError, 'invalid ACL']],
  [ZkCode.BAD_ARGUMENTS, [BadArgumentsError, 'bad arguments']],
  [ZkCode.CONNECTION_LOSS, [ConnectionLossError, 'connection lost, outcome unknown']],
  [ZkCode.SESSION_EXPIRED, [SessionExpiredError, 'session expired']],
  [ZkCode.OPERATION_TIMEOUT, [OperationTimeoutError, 'operation timed out']],
]);

/** Builds the typed error for a ZooKeeper error code. */
export function errorForCode(code: number, path?: string): ZkError {
  const known = byCode.get(code);
  if (known) {
    const [ErrorClass, message] = known;
    return new ErrorClass(message, code, path);
  }
  return new SystemError(`ZooKeeper error ${code}`, code, path);
}

/** Converts whatever the native client threw or passed to a callback. */
export function fromNative(error: unknown, path?: string): ZkError {
  if (error instanceof ZkError) return error;
  const code = nativeCode(error);
  if (code !== undefined) return errorForCode(code, path);
  const message = error instanceof Error ? error.message : String(error);
  // The native client throws AssertionErrors synchronously for bad arguments.
  return new BadArgumentsError(message, ZkCode.BAD_ARGUMENTS, path);
}

function nativeCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const getCode = (error as { getCode?: unknown }).getCode;
  if (typeof getCode === 'function') return getCode.call(error) as number;
  return undefined;
}

/**
 * Errors after which an idempotent operation is worth retrying at once: the
 * connection dropped while it was on the wire. Not when no connection came up
 * in time (`NotConnectedError`): waiting again would only multiply the wait.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NotConnectedError) return false;
  return error instanceof ConnectionLossError || error instanceof OperationTimeoutError;
}

/**
 * Errors after which waiting for the connection (or retrying) is the fix: the
 * connection dropped, an operation timed out, the session ended or the client
 * closed. A recipe meeting one waits for `connected`/`reconnected` (or retries
 * at once when the connection is already back); anything else is a real failure.
 */
export function isConnectionProblem(error: unknown): boolean {
  return (
    error instanceof ConnectionLossError ||
    error instanceof OperationTimeoutError ||
    error instanceof SessionExpiredError ||
    error instanceof ClientClosedError
  );
}

/** An authenticating client found a node it relies on open to every client (see ZkClient.refuseOpenNode). */
export class OpenAclError extends Error {
  override readonly name = 'OpenAclError';
}
