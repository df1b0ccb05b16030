// Shared with the registry's API: moved to @app/common/api.
export * from '@app/common/api/validation/fast-validate';
