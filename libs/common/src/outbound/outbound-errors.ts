/** The destination (a host, an address, a redirect target) is refused by the outbound policy. */
export class HttpDestinationRefusedError extends Error {
  override readonly name = 'HttpDestinationRefusedError';
}

/** The response body is larger than the client's cap. */
export class HttpResponseTooLargeError extends Error {
  override readonly name = 'HttpResponseTooLargeError';
}

/** The whole exchange (redirects included) took longer than the client's timeout. */
export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
}
