/**
 * Check 7: no two attempts of a task ever run at the same time. From the
 * workers' execution logs: every handler run of attempt n (each gang member's)
 * must have stopped before any handler run of attempt n+1 started, and one
 * attempt's part (the task, or one gang member) never runs twice at once.
 *
 * A run's end is its end line (succeeded, failed, aborted). A process killed
 * with `kill -9` writes none: its runs end when the run saw the process exit.
 * A process frozen by SIGSTOP cannot stop anything until SIGCONT: a run that
 * ends within RESUME_GRACE_MS of its process being resumed is taken to have
 * stopped when it was frozen (it stopped at its first chance); any later end
 * counts as it is. A run with neither an end line nor an exit is still
 * running at the end of the checks.
 */
import type { ExecutionLogLine } from './execution-log';

/** What the run saw of its processes: when each pid exited, when each was frozen. */
export interface ProcessTimeline {
  exits: ReadonlyMap<number, number>;
  pauses: ReadonlyArray<{ pid: number; from: number; to: number }>;
}

/** How soon a resumed process must stop a run that its session loss aborted. */
export const RESUME_GRACE_MS = 1_000;

interface HandlerRun {
  taskId: string;
  attempt: number;
  /** The gang member's index (0 for a task that is not a gang). */
  member: number;
  worker: string;
  pid: number;
  start: number;
  end: number;
}

export function checkAttemptOverlap(
  lines: readonly ExecutionLogLine[],
  processes: ProcessTimeline,
  now = Date.now(),
): { problems: string[]; runs: number } {
  const runs = handlerRuns(lines, processes, now);
  const byTask = new Map<string, HandlerRun[]>();
  for (const run of runs) {
    const list = byTask.get(run.taskId) ?? [];
    list.push(run);
    byTask.set(run.taskId, list);
  }
  const problems: string[] = [];
  for (const [taskId, list] of byTask) {
    for (const earlier of list) {
      for (const later of list) {
        if (!clash(earlier, later) || later.start < earlier.start) continue;
        if (later.start >= earlier.end) continue;
        problems.push(
          `${taskId}: attempt ${earlier.attempt} on ${earlier.worker} (pid ${earlier.pid}) ran until ` +
            `${iso(earlier.end)}, attempt ${later.attempt} on ${later.worker} (pid ${later.pid}) ` +
            `started at ${iso(later.start)} (${earlier.end - later.start} ms overlap)`,
        );
      }
    }
  }
  return { problems, runs: runs.length };
}

/** Runs that must not overlap: a later attempt, or the same part of the same attempt run again. */
function clash(earlier: HandlerRun, later: HandlerRun): boolean {
  if (earlier === later) return false;
  if (later.attempt > earlier.attempt) return true;
  return later.attempt === earlier.attempt && later.member === earlier.member;
}

/** Pairs each start line with the next end line of the same run (task, attempt, member, pid). */
function handlerRuns(
  lines: readonly ExecutionLogLine[],
  processes: ProcessTimeline,
  now: number,
): HandlerRun[] {
  const open = new Map<string, ExecutionLogLine>();
  const runs: HandlerRun[] = [];
  const key = (line: ExecutionLogLine): string =>
    `${line.taskId}|${line.attempt}|${line.gang ?? 0}|${line.pid}`;
  const close = (started: ExecutionLogLine, end: number): void => {
    runs.push({
      taskId: started.taskId,
      attempt: started.attempt,
      member: started.gang ?? 0,
      worker: started.worker,
      pid: started.pid,
      start: started.at,
      end: frozenEnd(started, end, processes),
    });
  };
  for (const line of [...lines].sort((a, b) => a.at - b.at)) {
    if (line.event === 'start') {
      open.set(key(line), line);
      continue;
    }
    const started = open.get(key(line));
    if (!started) continue;
    open.delete(key(line));
    close(started, line.at);
  }
  for (const started of open.values()) close(started, processes.exits.get(started.pid) ?? now);
  return runs;
}

/** The end of a run whose process was frozen while it ran and stopped it at its first chance. */
function frozenEnd(started: ExecutionLogLine, end: number, processes: ProcessTimeline): number {
  for (const pause of processes.pauses) {
    if (pause.pid !== started.pid || pause.from < started.at || pause.from > end) continue;
    if (end <= pause.to + RESUME_GRACE_MS) return pause.from;
  }
  return end;
}

function iso(at: number): string {
  return new Date(at).toISOString();
}
