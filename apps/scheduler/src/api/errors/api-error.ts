// Shared with the registry's API: moved to @app/common/api.
export { ApiError, GRPC_STATUS_OF, HTTP_STATUS_OF, type ApiErrorKind } from '@app/common/api';
