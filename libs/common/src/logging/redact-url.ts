/** Query parameters that carry secrets (libpq's `password`, API keys, tokens…), compared without case. */
const SECRET_PARAMETER =
  /^(password|passwd|pwd|pass|sslpassword|secret|client_secret|token|access_token|api_key|apikey|key|sig|signature|auth)$/i;

/**
 * `url` fit for a log line or a task error: the password of its user info
 * and the values of secret-looking query parameters replaced by `***`.
 * Undefined when `url` does not parse (callers decide what to show then).
 */
export function redactUrl(url: string | URL): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return undefined;
  }
  if (parsed.password !== '') parsed.password = '***';
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMETER.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}
