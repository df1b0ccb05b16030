import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retired tasks by idempotency key: a key keeps answering its task after the
 * task has left ZooKeeper. Partial: most tasks have no key, and only a final
 * record (a retired task) can answer.
 */
export class IndexIdempotencyKeys1779321600000 implements MigrationInterface {
  readonly name = 'IndexIdempotencyKeys1779321600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX task_history_idempotency_key_idx ON task_history ((record ->> 'idempotencyKey')) ` +
        `WHERE record ? 'idempotencyKey'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX task_history_idempotency_key_idx`);
  }
}
