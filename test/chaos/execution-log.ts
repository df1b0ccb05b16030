/** The workers' own execution logs (one JSON-lines file per worker id), as the chaos handler writes them. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExecutionLogLine {
  event: 'start' | 'succeeded' | 'failed' | 'aborted';
  taskId: string;
  attempt: number;
  worker: string;
  pid: number;
  at: number;
  gang?: number;
}

/** Every line of every worker's log; a line cut short by `kill -9` is skipped. */
export function readExecutionLogs(dir: string): ExecutionLogLine[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as ExecutionLogLine];
          } catch {
            return [];
          }
        }),
    );
}

/** Pids with a handler started and not ended yet (by their logs: a process killed since stays in). */
export function pidsRunningHandlers(lines: readonly ExecutionLogLine[]): Set<number> {
  const open = new Map<string, number>();
  for (const line of lines) {
    const key = `${line.pid}|${line.taskId}|${line.attempt}|${line.gang ?? 0}`;
    if (line.event === 'start') open.set(key, line.pid);
    else open.delete(key);
  }
  return new Set(open.values());
}
