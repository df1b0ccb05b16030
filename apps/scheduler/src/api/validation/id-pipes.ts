import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '@app/common/api';
import { checkJobId, checkTaskId, type Check } from './checks';

/** Throws a 400 naming `id` unless it passes `check`: no malformed id reaches ZooKeeper. */
export function requireId(value: unknown, check: Check, field = 'id'): string {
  const problem = check(value, {});
  if (problem) throw ApiError.field(field, problem);
  return value as string;
}

@Injectable()
export class JobIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    return requireId(value, checkJobId);
  }
}

@Injectable()
export class TaskIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    return requireId(value, checkTaskId);
  }
}
