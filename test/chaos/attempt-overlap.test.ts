import { RESUME_GRACE_MS, checkAttemptOverlap, type ProcessTimeline } from './attempt-overlap';
import type { ExecutionLogLine } from './execution-log';

/** Check 7 on hand-made execution logs: overlapping attempts are caught, the rest is not. */

const T0 = 1_800_000_000_000;
const none: ProcessTimeline = { exits: new Map(), pauses: [] };

function line(
  event: ExecutionLogLine['event'],
  attempt: number,
  at: number,
  pid = 10 + attempt,
  gang?: number,
): ExecutionLogLine {
  return {
    event,
    taskId: 't-1',
    attempt,
    worker: `worker-${pid}`,
    pid,
    at: T0 + at,
    ...(gang === undefined ? {} : { gang }),
  };
}

it('attempts one after the other pass', () => {
  const logs = [
    line('start', 1, 0),
    line('aborted', 1, 100),
    line('start', 2, 150),
    line('succeeded', 2, 300),
  ];
  expect(checkAttemptOverlap(logs, none)).toEqual({ problems: [], runs: 2 });
});

it('an attempt started while the one before still ran is reported', () => {
  const logs = [
    line('start', 1, 0),
    line('start', 2, 50),
    line('succeeded', 1, 100),
    line('succeeded', 2, 300),
  ];
  const { problems } = checkAttemptOverlap(logs, none);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/t-1: attempt 1 .* attempt 2 .*\(50 ms overlap\)/);
});

it('the members of one gang attempt may run together; the next attempt may not overlap any', () => {
  const logs = [
    line('start', 1, 0, 11, 0),
    line('start', 1, 5, 12, 1),
    line('failed', 1, 100, 11, 0),
    line('start', 2, 150, 13, 0),
    line('aborted', 1, 200, 12, 1),
    line('succeeded', 2, 300, 13, 0),
  ];
  const { problems } = checkAttemptOverlap(logs, none);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain('pid 12');
});

it('a run cut short by kill -9 ends when its process exited', () => {
  const logs = [line('start', 1, 0, 11), line('start', 2, 500, 12)];
  expect(
    checkAttemptOverlap(logs, { exits: new Map([[11, T0 + 400]]), pauses: [] }).problems,
  ).toEqual([]);
  expect(
    checkAttemptOverlap(logs, { exits: new Map([[11, T0 + 600]]), pauses: [] }).problems,
  ).toHaveLength(1);
  // Neither an end line nor an exit: still running when checked.
  expect(checkAttemptOverlap(logs, none, T0 + 1_000).problems).toHaveLength(1);
});

it('a frozen process stops at its first chance: within the grace after SIGCONT, it ended when frozen', () => {
  const paused = { exits: new Map(), pauses: [{ pid: 11, from: T0 + 100, to: T0 + 5_000 }] };
  const inTime = [
    line('start', 1, 0),
    line('start', 2, 4_000),
    line('aborted', 1, 5_000 + RESUME_GRACE_MS - 1),
  ];
  expect(checkAttemptOverlap(inTime, paused).problems).toEqual([]);
  const late = [
    line('start', 1, 0),
    line('start', 2, 4_000),
    line('aborted', 1, 5_000 + RESUME_GRACE_MS + 500),
  ];
  expect(checkAttemptOverlap(late, paused).problems).toHaveLength(1);
});

it('the same part of one attempt run twice at once is reported', () => {
  const logs = [line('start', 1, 0, 11), line('start', 1, 50, 12), line('succeeded', 1, 100, 11)];
  const { problems } = checkAttemptOverlap(logs, { exits: new Map([[12, T0 + 200]]), pauses: [] });
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/attempt 1 on worker-11 .* attempt 1 on worker-12/);
});
