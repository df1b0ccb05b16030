export * from './api-auth-settings';
export * from './api-auth.guard';
export * from './api-auth.module';
export * from './api-roles';
export * from './api-tokens';
export * from './principal.interceptor';
export * from './request-principal';
export * from './submission-rate-limiter';
