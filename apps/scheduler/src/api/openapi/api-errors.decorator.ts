import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { MAX_PAYLOAD_BYTES, MAX_REQUEST_BYTES } from '@app/contracts/dto/scheduler-api';
import { ApiErrorBodyDto } from '../dto/views.dto';

const DESCRIPTIONS: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.BAD_REQUEST]:
    'Invalid input: malformed JSON, an unknown field, or a field with a wrong value; `errors` names each field and the reason.',
  [HttpStatus.NOT_FOUND]: 'No job or task with this id.',
  [HttpStatus.CONFLICT]: 'Conflicts with the current state (see the message).',
  [HttpStatus.FORBIDDEN]:
    'The token may not do this: its role is too weak, or (a submitter) the task or job belongs to another token.',
  [HttpStatus.TOO_MANY_REQUESTS]:
    'Over the write rate of the token (API_RATE_LIMIT_PER_MINUTE; each task of a batch counts), or ZooKeeper holds API_MAX_LIVE_TASKS tasks already.',
  [HttpStatus.PAYLOAD_TOO_LARGE]: `A payload over ${MAX_PAYLOAD_BYTES} bytes as JSON, or a body over ${MAX_REQUEST_BYTES} bytes.`,
  [HttpStatus.SERVICE_UNAVAILABLE]:
    'ZooKeeper is unreachable, or (reads of tasks no longer in ZooKeeper) the task history in PostgreSQL is; retry later (writes: the outcome is unknown).',
};

/** Documents the error answers of a route, each with the API's error body. */
export function ApiErrors(...statuses: HttpStatus[]): MethodDecorator {
  const all = [...statuses, HttpStatus.SERVICE_UNAVAILABLE];
  return applyDecorators(
    ...all.map((status) =>
      ApiResponse({ status, type: ApiErrorBodyDto, description: DESCRIPTIONS[status] }),
    ),
  );
}
