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
