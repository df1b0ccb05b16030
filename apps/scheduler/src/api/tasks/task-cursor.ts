/**
 * The cursor of `GET /v1/tasks`, which walks two sources in turn: the live
 * tasks in ZooKeeper (by id), then the retired ones in the history (by id).
 * A live-phase cursor is the last task id, as before the history existed; a
 * history-phase cursor is `h~` followed by the last task id (`h~` alone: the
 * history from its start). `~` never occurs in a task id, so the two cannot
 * be confused.
 */
export type TaskCursor = { phase: 'live'; after?: string } | { phase: 'history'; after?: string };

const HISTORY_PREFIX = 'h~';

export function parseTaskCursor(cursor: string | undefined): TaskCursor {
  if (cursor === undefined) return { phase: 'live' };
  if (!cursor.startsWith(HISTORY_PREFIX)) return { phase: 'live', after: cursor };
  const after = cursor.slice(HISTORY_PREFIX.length);
  return after === '' ? { phase: 'history' } : { phase: 'history', after };
}

export function historyCursor(after?: string): string {
  return `${HISTORY_PREFIX}${after ?? ''}`;
}
