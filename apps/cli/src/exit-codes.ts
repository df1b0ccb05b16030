/**
 * Exit codes of `zks`, the contract scripts rely on (documented in docs/cli.md):
 * each failure maps to exactly one of them.
 */
export const ExitCode = {
  ok: 0,
  /** The operation ran and did not succeed (e.g. the watched task failed). */
  failed: 1,
  /** Bad flags or arguments; nothing was sent. */
  usage: 2,
  /** The server answered 404. */
  notFound: 3,
  /** The server refused the request (a 4xx other than 404). */
  rejected: 4,
  /** The server cannot be reached, timed out or answered 5xx. */
  unavailable: 5,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure to report on stderr and turn into an exit code (never a stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** Further lines, e.g. one per field the server refused. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}
