/**
 * Where the audit history lives when DATABASE_URL is unset: the embedded
 * PostgreSQL that `npm start` runs (scripts/local-cluster/database.ts) on a
 * port of its own, so it never collides with a PostgreSQL already serving on
 * 5432. Trust authentication on 127.0.0.1 only, hence no password.
 */
export const EMBEDDED_DATABASE_PORT = 55432;
export const EMBEDDED_DATABASE_NAME = 'zk_scheduler';
export const EMBEDDED_DATABASE_URL = `postgres://postgres@127.0.0.1:${EMBEDDED_DATABASE_PORT}/${EMBEDDED_DATABASE_NAME}`;

/** The configured URL, or the embedded default when none is set. */
export function resolveDatabaseUrl(configured: string | undefined): string {
  const trimmed = configured?.trim();
  return trimmed === undefined || trimmed === '' ? EMBEDDED_DATABASE_URL : trimmed;
}
