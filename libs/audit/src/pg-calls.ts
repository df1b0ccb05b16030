import type { DataSource, QueryRunner } from 'typeorm';
import { asUnavailable } from './unavailable';

/**
 * Statements and transactions on the audit data source, with the two rules
 * every store of this library follows: fail at once while the database is not
 * ready (`assertReady`), and turn "PostgreSQL is not there" into
 * AuditUnavailableError so callers can tell waiting from a bug.
 */
export class PgCalls {
  constructor(
    private readonly dataSource: DataSource,
    private readonly assertReady?: () => void,
  ) {}

  async transaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    this.assertReady?.();
    let runner: QueryRunner;
    try {
      runner = this.dataSource.createQueryRunner();
    } catch (error: unknown) {
      throw asUnavailable(error);
    }
    try {
      await runner.connect();
      await runner.startTransaction();
      const result = await work(runner);
      await runner.commitTransaction();
      return result;
    } catch (error: unknown) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw asUnavailable(error);
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  async run<T>(work: (source: DataSource) => Promise<T>): Promise<T> {
    this.assertReady?.();
    try {
      return await work(this.dataSource);
    } catch (error: unknown) {
      throw asUnavailable(error);
    }
  }

  /** One statement: its rows. */
  query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.run((source) => source.query(sql, params) as Promise<Row[]>);
  }
}
