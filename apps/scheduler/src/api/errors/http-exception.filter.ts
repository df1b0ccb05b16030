import { Catch } from '@nestjs/common';
import {
  ApiHttpExceptionFilter as CommonApiHttpExceptionFilter,
  type ApiError,
} from '@app/common/api';
import { toApiError } from './to-api-error';

export { errorBody } from '@app/common/api';

/** The shared `/v1` error body (@app/common/api), with the scheduler's store errors mapped. */
@Catch()
export class ApiHttpExceptionFilter extends CommonApiHttpExceptionFilter {
  protected override toApiError(exception: unknown): ApiError | undefined {
    return toApiError(exception);
  }
}
