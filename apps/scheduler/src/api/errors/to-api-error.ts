import { toCommonApiError } from '@app/common/api';
import {
  DuplicateJobNameError,
  JobNotFoundError,
  TaskAlreadyFinishedError,
  TaskNotFoundError,
} from '@app/store';
import { ApiError } from '@app/common/api';

/**
 * The client-facing meaning of an error from the stores or ZooKeeper; undefined
 * for anything else (a bug: the transport answers 500 / INTERNAL and logs it).
 */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof JobNotFoundError) {
    return new ApiError('not_found', error.message, [{ field: 'id', reason: 'no such job' }]);
  }
  if (error instanceof TaskNotFoundError) {
    return new ApiError('not_found', error.message, [{ field: 'id', reason: 'no such task' }]);
  }
  if (error instanceof DuplicateJobNameError) {
    return new ApiError('already_exists', error.message, [
      { field: 'name', reason: `is taken: a job named '${error.jobName}' already exists` },
    ]);
  }
  if (error instanceof TaskAlreadyFinishedError) {
    return new ApiError(
      'failed_precondition',
      `task ${error.id} cannot be cancelled: it is already ${error.state}`,
      [{ field: 'state', reason: `is ${error.state}: the task has already finished` }],
    );
  }
  // Our own ApiErrors, ZooKeeper outages (503).
  return toCommonApiError(error);
}
