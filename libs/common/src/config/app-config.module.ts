import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import { AppConfig, type ServiceDescriptor } from './app-config';
import { loadAppConfig } from './load-app-config';

/** Key under which the typed config is also visible through ConfigService (`app.httpPort`). */
export const APP_CONFIG_NAMESPACE = 'app';

/**
 * Global configuration: validates the environment once, when the application
 * is created, and provides it as the typed `AppConfig` (and through
 * `ConfigService` for libraries that expect it). No `.env` file is read: the
 * environment is the only source, as in a container.
 */
@Module({})
export class AppConfigModule {
  static forRoot(service: ServiceDescriptor): DynamicModule {
    // Validation runs in the provider factory, i.e. inside NestFactory.create /
    // Test.createTestingModule().compile(), never when this module file is imported.
    const appConfig = registerAs(APP_CONFIG_NAMESPACE, () => loadAppConfig(process.env, service));
    return {
      module: AppConfigModule,
      global: true,
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] })],
      providers: [
        { provide: AppConfig, useFactory: (config: AppConfig) => config, inject: [appConfig.KEY] },
      ],
      exports: [AppConfig],
    };
  }
}
