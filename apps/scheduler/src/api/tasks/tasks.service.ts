import { Injectable, Logger, Optional } from '@nestjs/common';
import {
  DEFAULT_PAGE_LIMIT,
  type Page,
  type SubmittedTaskView,
  type TaskView,
} from '@app/contracts/dto/scheduler-api';
import { TaskAlreadyFinishedError, TaskNotFoundError, TaskStore } from '@app/store';
import { isUnavailable } from '@app/audit';
import type { TaskRecord } from '@app/contracts';
import type { ListTasksQueryDto } from '../dto/query.dto';
import type { SubmitTaskDto } from '../dto/task.dto';
import { ApiError } from '@app/common/api';
import { taskSubmissionOf } from '../mapping/specs';
import { submittedView, taskView } from '../mapping/views';
import { historyCursor, parseTaskCursor } from './task-cursor';
import { LiveTaskLimit } from '../limits/live-task-limit';
import { callerName, checkOwner } from '../ownership';
import { TaskHistoryReader } from './task-history';
import { SchedulerLeadership } from '../../leadership/scheduler-leadership';

/**
 * Task operations shared by the HTTP and gRPC controllers; inputs are validated DTOs.
 *
 * Reads go to ZooKeeper first, then to the history for tasks that have left it
 * (retention): `get` answers a retired task from its final record, in the same
 * shape. Without PostgreSQL, live tasks are served as before; a task that is
 * not in ZooKeeper is a 503 (it may have been retired: we cannot say it does
 * not exist), and listing stops at the end of the live tasks (see `list`).
 */
/** The history-unavailable warning of keyed submissions, at most this often. */
const WARN_EVERY_MS = 30_000;

@Injectable()
export class TasksService {
  private readonly logger = new Logger(TasksService.name);
  private warnedAt = -Infinity;

  constructor(
    private readonly tasks: TaskStore,
    private readonly history: TaskHistoryReader,
    private readonly liveTasks: LiveTaskLimit,
    /** Absent where the API runs without an election (its tests). */
    @Optional() private readonly leadership?: SchedulerLeadership,
  ) {}

  async submit(task: SubmitTaskDto): Promise<SubmittedTaskView> {
    const [submitted] = await this.submitBatch([task]);
    return submitted;
  }

  /**
   * In request order; the store commits them in as few transactions as size
   * allows. A key whose task is still in ZooKeeper answers it there; one whose
   * task has been retired answers it from the history, so a key means one task
   * for as long as the history keeps it.
   */
  async submitBatch(tasks: readonly SubmitTaskDto[]): Promise<SubmittedTaskView[]> {
    const owner = callerName();
    const retired = await this.retiredByKeys(tasks, owner);
    const fresh = tasks.filter((task) => !retired.has(task.idempotencyKey ?? ''));
    const submissions = fresh.map((task) => ({
      ...taskSubmissionOf(task),
      ...(owner === undefined ? {} : { owner }),
    }));
    const submitted = await this.liveTasks.admit(fresh.length, () =>
      this.tasks.submit(submissions, () => this.leadership?.localLeader()),
    );
    let next = 0;
    return tasks.map((task) => {
      const earlier = retired.get(task.idempotencyKey ?? '');
      return earlier ? { id: earlier.id, state: earlier.state } : submittedView(submitted[next++]);
    });
  }

  async get(id: string): Promise<TaskView> {
    const found = await this.tasks.get(id);
    if (found) return taskView(found.record);
    return taskView(await this.retired(id));
  }

  /**
   * Live tasks from ZooKeeper by id, then retired tasks from the history by id
   * (the cursor says which: see task-cursor.ts). A page may hold the last live
   * tasks and the first retired ones. A task retired while a client pages may
   * be listed twice (live, then retired); a page may be short with a cursor
   * when the history holds many rows of live tasks. If the history cannot be
   * read, a page that has live tasks ends with a history cursor (the next page
   * is then a 503 until PostgreSQL is back); one that has none is a 503.
   */
  async list(query: ListTasksQueryDto): Promise<Page<TaskView>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const cursor = parseTaskCursor(query.cursor);
    const items: TaskView[] = [];
    let historyAfter: string | undefined;
    if (cursor.phase === 'live') {
      const { tasks, next } = await this.tasks.list({
        jobId: query.jobId,
        state: query.state,
        after: cursor.after,
        limit,
      });
      items.push(...tasks.map(taskView));
      if (next !== undefined) return { items, nextCursor: next };
    } else {
      historyAfter = cursor.after;
    }
    if (!this.history.canHold(query.state)) return { items, nextCursor: null };
    try {
      // Even a full page asks for one more: is there any history to come?
      const room = Math.max(limit - items.length, 1);
      const page = await this.history.list({
        jobId: query.jobId,
        state: query.state,
        after: historyAfter,
        limit: room,
      });
      if (items.length === limit) {
        return { items, nextCursor: page.records.length > 0 ? historyCursor() : null };
      }
      items.push(...page.records.map(taskView));
      return { items, nextCursor: page.next === undefined ? null : historyCursor(page.next) };
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      if (items.length > 0) return { items, nextCursor: historyCursor(historyAfter) };
      throw historyUnavailable('retired tasks cannot be listed', error);
    }
  }

  /** A submitter cancels only its own tasks (checkOwner); the owner never changes, so one read suffices. */
  async cancel(id: string): Promise<TaskView> {
    const live = await this.tasks.get(id);
    if (live) checkOwner(`task ${id}`, live.record.owner);
    try {
      return taskView(await this.tasks.cancel(id));
    } catch (error) {
      if (!(error instanceof TaskNotFoundError)) throw error;
      // Gone from ZooKeeper: retired after it finished (409), or never existed (404).
      const retired = await this.retired(id);
      throw new TaskAlreadyFinishedError(id, retired.state);
    }
  }

  /**
   * Retired tasks of the keys in `tasks`. Without the history, submissions go
   * on with ZooKeeper alone (a key is then known while its task is there):
   * taking tasks matters more than the rare key reused after retention.
   */
  private async retiredByKeys(
    tasks: readonly SubmitTaskDto[],
    owner: string | undefined,
  ): Promise<Map<string, TaskRecord>> {
    const keys = tasks.flatMap((task) => (task.idempotencyKey ? [task.idempotencyKey] : []));
    if (keys.length === 0) return new Map();
    try {
      // Keys are per token: another token's task with the same key is not ours.
      const retired = await this.history.retiredByKeys(keys);
      return new Map([...retired].filter(([, record]) => record.owner === owner));
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      if (Date.now() - this.warnedAt < WARN_EVERY_MS) return new Map();
      this.warnedAt = Date.now();
      this.logger.warn({
        msg: 'task history unavailable: idempotency keys checked in ZooKeeper only',
        error: error instanceof Error ? error.message : String(error),
      });
      return new Map();
    }
  }

  /** A task that has left ZooKeeper, from the history; 404 when it has none either. */
  private async retired(id: string): Promise<TaskRecord> {
    let retired: TaskRecord | undefined;
    try {
      retired = await this.history.retired(id);
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      throw historyUnavailable(`task ${id} is not in ZooKeeper`, error);
    }
    if (!retired) throw new TaskNotFoundError(id);
    return retired;
  }
}

function historyUnavailable(what: string, error: unknown): ApiError {
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiError(
    'unavailable',
    `${what} and the task history (PostgreSQL) is unavailable (${detail}); retry later`,
  );
}
