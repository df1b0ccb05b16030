import {
  applyDecorators,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  UseGuards,
  UseInterceptors,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { API_AUTH_SETTINGS, ApiAuthGuard } from './api-auth.guard';
import { loadApiAuthSettings, type ApiAuthSettings } from './api-auth-settings';
import { ApiTokens } from './api-tokens';
import { PrincipalInterceptor } from './principal.interceptor';
import { SubmissionRateLimiter } from './submission-rate-limiter';

/** Says at start whether the API is open: an open API should be a choice, not an accident. */
@Injectable()
export class ApiAuthStartupLog implements OnModuleInit {
  private readonly logger = new Logger('ApiAuth');

  constructor(
    private readonly tokens: ApiTokens,
    @Inject(API_AUTH_SETTINGS) private readonly settings: ApiAuthSettings,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.tokens.enabled) {
      if (this.config.loopbackOnly) {
        this.logger.warn(
          `API_TOKEN and API_TOKENS_FILE are unset: the HTTP and gRPC APIs are open to anyone on this host (BIND_HOST=${this.config.bindHost})`,
        );
      } else {
        this.logger.warn(OPEN_TO_THE_NETWORK(this.config.bindHost));
      }
      return;
    }
    this.logger.log(
      `API tokens required (${this.tokens.names.join(', ')}); metrics ${
        this.settings.metricsRequireToken ? 'need a token' : 'are open'
      }`,
    );
  }
}

/** The loud warning of a service with no token that listens beyond loopback. */
export const OPEN_TO_THE_NETWORK = (bindHost: string | undefined): string =>
  `SECURITY WARNING: API_TOKEN and API_TOKENS_FILE are unset and the service listens on ${
    bindHost === undefined ? 'every interface (BIND_HOST unset)' : `BIND_HOST=${bindHost}`
  }: anyone who can reach its ports can submit and cancel tasks, change jobs and read every payload. ` +
  'Set API_TOKENS_FILE (docs/security.md), or BIND_HOST=127.0.0.1 for a cluster on one machine.';

/**
 * Authentication, roles and write rate limits for every HTTP route and gRPC
 * method of the application (a global guard), configured by API_TOKEN,
 * API_TOKENS_FILE, API_METRICS_REQUIRE_TOKEN and API_RATE_LIMIT_PER_MINUTE.
 * Import it once in a service's root module.
 */
@Global()
@Module({
  providers: [
    { provide: API_AUTH_SETTINGS, useFactory: () => loadApiAuthSettings(process.env) },
    {
      provide: ApiTokens,
      inject: [API_AUTH_SETTINGS],
      useFactory: (settings: ApiAuthSettings) => new ApiTokens(settings.tokens),
    },
    {
      provide: SubmissionRateLimiter,
      inject: [API_AUTH_SETTINGS],
      useFactory: (settings: ApiAuthSettings) =>
        new SubmissionRateLimiter(settings.rateLimitPerMinute),
    },
    ApiAuthStartupLog,
    { provide: APP_GUARD, useClass: ApiAuthGuard },
    { provide: APP_INTERCEPTOR, useClass: PrincipalInterceptor },
    ApiAuthGuard,
    PrincipalInterceptor,
  ],
  exports: [
    API_AUTH_SETTINGS,
    ApiTokens,
    SubmissionRateLimiter,
    ApiAuthGuard,
    PrincipalInterceptor,
  ],
})
export class ApiAuthModule {}

/**
 * For gRPC controllers: the microservice does not inherit the application's
 * global guards and interceptors (it is connected with inheritAppConfig
 * false), so each gRPC controller binds them itself.
 */
export const GrpcApiAuth = (): ClassDecorator =>
  applyDecorators(UseGuards(ApiAuthGuard), UseInterceptors(PrincipalInterceptor));
