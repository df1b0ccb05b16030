import { applyDecorators, type HttpStatus } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ApiErrorBodyDto } from './api-error-body.dto';

/** Documents the error answers of a route, each with the API's error body and its meaning. */
export function ApiErrorResponses(
  descriptions: Partial<Record<HttpStatus, string>>,
  statuses: readonly HttpStatus[],
): MethodDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, type: ApiErrorBodyDto, description: descriptions[status] }),
    ),
  );
}
