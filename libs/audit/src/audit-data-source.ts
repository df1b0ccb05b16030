import { DataSource, type DataSourceOptions } from 'typeorm';
import { AUDIT_ENTITIES } from './entities';
import { AUDIT_MIGRATIONS } from './migrations';

export interface AuditDataSourceSettings {
  /** `postgres://user[:password]@host:port/database` */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** A connection attempt fails after this long (default 5 s): an unreachable server is an error, not a hang. */
  connectTimeoutMs?: number;
  /** A statement fails after this long, client side (default 30 s). */
  queryTimeoutMs?: number;
  /** Shown in pg_stat_activity (default `zk-scheduler-audit`). */
  applicationName?: string;
  /** Pool errors (an idle connection dropped by the server); default: ignored, the pool replaces it. */
  onPoolError?: (error: Error) => void;
}

/**
 * TypeORM options of the audit database: the migrations run when the data
 * source initialises (`migrationsRun`), the schema is never synchronised from
 * the entities. Sockets keep TCP keep-alive on, so a server that vanished is
 * noticed by idle pool connections too.
 */
export function auditDataSourceOptions(settings: AuditDataSourceSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: AUDIT_ENTITIES,
    migrations: AUDIT_MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    poolSize: settings.poolSize ?? 10,
    connectTimeoutMS: settings.connectTimeoutMs ?? 5_000,
    applicationName: settings.applicationName ?? 'zk-scheduler-audit',
    poolErrorHandler: settings.onPoolError ?? (() => undefined),
    extra: {
      query_timeout: settings.queryTimeoutMs ?? 30_000,
      keepAlive: true,
    },
  };
}

export function createAuditDataSource(settings: AuditDataSourceSettings): DataSource {
  return new DataSource(auditDataSourceOptions(settings));
}
