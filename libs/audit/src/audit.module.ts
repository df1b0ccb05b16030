import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { AppConfig, ReadinessRegistry } from '@app/common';
import { AuditDatabase } from './audit-database';
import { auditDataSourceOptions } from './audit-data-source';
import { AUDIT_STORE, type AuditStore } from './audit-store';
import { resolveDatabaseUrl } from './embedded-default';
import { TypeOrmAuditStore } from './typeorm-audit-store';

/** Name of the audit data source (`@InjectDataSource(AUDIT_DATA_SOURCE)`). */
export const AUDIT_DATA_SOURCE = 'audit';

export interface AuditModuleOptions {
  /**
   * Whether `GET /health/ready` needs PostgreSQL. True where history is the
   * service's job (the registry drains into it); false where it is a side
   * read (the scheduler: a PostgreSQL outage must not take its API down).
   */
  requiredForReadiness: boolean;
}

const AUDIT_MODULE_OPTIONS = Symbol('AUDIT_MODULE_OPTIONS');

/**
 * Starts connecting when the module initialises (without waiting for it),
 * closes on shutdown, and, when required for readiness, reports `postgresql`
 * in `GET /health/ready`: up while `ping()` answers.
 */
@Injectable()
export class AuditLifecycle implements OnModuleInit, OnApplicationShutdown {
  private unregister: (() => void) | undefined;

  constructor(
    private readonly database: AuditDatabase,
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
    private readonly readiness: ReadinessRegistry,
    @Inject(AUDIT_MODULE_OPTIONS) private readonly options: AuditModuleOptions,
  ) {}

  onModuleInit(): void {
    if (this.options.requiredForReadiness) {
      this.unregister = this.readiness.register('postgresql', () => this.store.ping());
    }
    this.database.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.unregister?.();
    await this.database.close();
  }
}

/**
 * The audit history in PostgreSQL for a Nest service: `AUDIT_STORE` (an
 * AuditStore) and the TypeORM data source `audit`. Needs AppConfigModule and
 * HealthModule (both global). Imported by path (`@app/audit/audit.module`) so
 * that `@app/audit` stays free of Nest.
 *
 * The URL is DATABASE_URL, or the embedded default (EMBEDDED_DATABASE_URL)
 * when unset. The service starts whether PostgreSQL answers or not (see
 * AuditDatabase): calls reject with AuditUnavailableError until it does, and
 * readiness says so. The database is created if missing and migrated at
 * start (never synchronised).
 */
@Module({})
export class AuditModule {
  static forRoot(options: AuditModuleOptions): DynamicModule {
    return {
      module: AuditModule,
      imports: [AuditCoreModule],
      providers: [{ provide: AUDIT_MODULE_OPTIONS, useValue: options }, AuditLifecycle],
      exports: [AuditCoreModule],
    };
  }
}

/** The data source, the database lifecycle and the store, without the readiness choice. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      name: AUDIT_DATA_SOURCE,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...auditDataSourceOptions({ url: resolveDatabaseUrl(config.databaseUrl) }),
        // AuditDatabase initialises it, with its own retries, without blocking the start.
        manualInitialization: true,
      }),
      dataSourceFactory: (options?: DataSourceOptions) => {
        if (options === undefined) throw new Error('the audit data source has no options');
        return Promise.resolve(new DataSource(options));
      },
    }),
  ],
  providers: [
    {
      provide: AuditDatabase,
      inject: [AppConfig, getDataSourceToken(AUDIT_DATA_SOURCE)],
      useFactory: (config: AppConfig, dataSource: DataSource) => {
        const logger = new Logger('AuditDatabase');
        return new AuditDatabase(
          {
            url: resolveDatabaseUrl(config.databaseUrl),
            logger: {
              info: (message, context) => logger.log({ msg: message, ...context }),
              warn: (message, context) => logger.warn({ msg: message, ...context }),
            },
          },
          dataSource,
        );
      },
    },
    {
      provide: AUDIT_STORE,
      inject: [AuditDatabase],
      useFactory: (database: AuditDatabase): AuditStore =>
        new TypeOrmAuditStore(database.dataSource, { assertReady: () => database.assertReady() }),
    },
  ],
  exports: [AUDIT_STORE, AuditDatabase],
})
export class AuditCoreModule {}
