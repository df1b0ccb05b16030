import { HttpStatus } from '@nestjs/common';
import { ApiErrorResponses } from '@app/common/api';

const DESCRIPTIONS: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.BAD_REQUEST]:
    'A query parameter with a wrong value, or an unknown one; `errors` names each parameter and the reason.',
  [HttpStatus.SERVICE_UNAVAILABLE]:
    'PostgreSQL (the audit history) or ZooKeeper is unreachable; retry later.',
};

/** Documents the error answers of a registry route (503 always), with the API's error body. */
export function RegistryApiErrors(...statuses: HttpStatus[]): MethodDecorator {
  return ApiErrorResponses(DESCRIPTIONS, [...statuses, HttpStatus.SERVICE_UNAVAILABLE]);
}
