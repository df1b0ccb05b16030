/**
 * Test harness for real PostgreSQL (no mocks): a throwaway cluster that tests
 * can stop and kill, and fresh databases on the shared server. Used as
 * `@app/audit/testing`; not for production code.
 */
export {
  TestingPostgres,
  TestingPostgresError,
  type TestingPostgresOptions,
} from './testing-postgres';
export { createTestDatabase, SHARED_POSTGRES_URL, type TestDatabase } from './shared-postgres';
export {
  embeddedPostgresBinaries,
  findPostgresBinaries,
  PostgresNotInstalledError,
  POSTGRES_OS_USER,
  type PostgresBinaries,
} from './postgres-binaries';
