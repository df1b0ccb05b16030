/**
 * The HTTP/gRPC API conventions shared by the services' public APIs: one error
 * body (`{ statusCode, error, message, errors: [{ field, reason }] }`) and its
 * gRPC statuses, strict validation of bodies and queries naming each bad
 * field, and their OpenAPI description. Imported as `@app/common/api`.
 */
export * from './errors/api-error';
export * from './errors/api-http-exception.filter';
export * from './errors/grpc-exception.filter';
export * from './errors/to-common-api-error';
export * from './openapi/api-error-body.dto';
export * from './openapi/api-error-responses';
export * from './validation/checks';
export * from './validation/fast-validate';
export * from './validation/field-registry';
export * from './validation/iso-date-time';
export * from './validation/json-shape';
export * from './validation/rule';
export * from './validation/to-dto';
export * from './validation/validate';
