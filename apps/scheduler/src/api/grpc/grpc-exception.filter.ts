import { Catch } from '@nestjs/common';
import { GrpcExceptionFilter as CommonGrpcExceptionFilter, type ApiError } from '@app/common/api';
import { toApiError } from '../errors/to-api-error';

export { ERRORS_TRAILER } from '@app/common/api';

/** The shared gRPC statuses (@app/common/api), with the scheduler's store errors mapped. */
@Catch()
export class GrpcExceptionFilter extends CommonGrpcExceptionFilter {
  protected override toApiError(exception: unknown): ApiError | undefined {
    return toApiError(exception);
  }
}
