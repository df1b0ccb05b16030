import { Catch } from '@nestjs/common';
import { ApiHttpExceptionFilter, GrpcExceptionFilter, type ApiError } from '@app/common/api';
import { toRegistryApiError } from './to-registry-api-error';

/** The shared `/v1` error body (@app/common/api), with the audit store's errors mapped. */
@Catch()
export class RegistryHttpExceptionFilter extends ApiHttpExceptionFilter {
  protected override toApiError(exception: unknown): ApiError | undefined {
    return toRegistryApiError(exception);
  }
}

/** The shared gRPC statuses (@app/common/api), with the audit store's errors mapped. */
@Catch()
export class RegistryGrpcExceptionFilter extends GrpcExceptionFilter {
  protected override toApiError(exception: unknown): ApiError | undefined {
    return toRegistryApiError(exception);
  }
}
