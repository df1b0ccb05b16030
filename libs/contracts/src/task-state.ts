/**
 * The life of a task. Exactly one state at a time (invariant 4):
 *
 *   pending ──assign──▶ assigned ──start──▶ running ──▶ succeeded
 *      ▲                   │                   │  └───▶ failed      (attempts exhausted)
 *      │                   │                   └──────▶ retrying ──(backoff)──▶ assigned
 *      └── handed back ────┴── worker gone: reassigned (attempt + 1)
 *   any non-terminal ──cancel──▶ cancelled
 */
export const TASK_STATES = [
  'pending',
  'assigned',
  'running',
  'succeeded',
  'failed',
  'retrying',
  'cancelled',
] as const;

export type TaskState = (typeof TASK_STATES)[number];

export type TerminalTaskState = 'succeeded' | 'failed' | 'cancelled';

export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TerminalTaskState>([
  'succeeded',
  'failed',
  'cancelled',
]);

export function isTerminal(state: TaskState): state is TerminalTaskState {
  return TERMINAL_TASK_STATES.has(state);
}

/** States in which a worker holds the task (it has an assignment node). */
export function isWithWorker(state: TaskState): boolean {
  return state === 'assigned' || state === 'running';
}
