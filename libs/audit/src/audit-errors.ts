/** PostgreSQL cannot be reached (not connected yet, down, or not answering): retry later. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An event that PostgreSQL would refuse (the drain should set it aside, not retry it). */
export class InvalidAuditEventError extends Error {
  override readonly name = 'InvalidAuditEventError';

  constructor(
    /** Position of the event in the `append` call. */
    readonly index: number,
    readonly eventId: unknown,
    readonly reason: string,
  ) {
    super(`audit event #${index} (id ${JSON.stringify(eventId)}): ${reason}`);
  }
}

/** A query parameter out of range (the API answers 400 naming it). */
export class InvalidAuditQueryError extends Error {
  override readonly name = 'InvalidAuditQueryError';

  constructor(
    readonly parameter: string,
    readonly reason: string,
  ) {
    super(`${parameter}: ${reason}`);
  }
}
