import { fireTaskId } from '@app/contracts';
import { checkFires, type CreatedEvent, type FiredTask } from './fire-checks';

const JOB = 'job-1';
const T0 = Date.parse('2026-12-06T12:00:00.000Z');

function fire(instant: number): FiredTask {
  return { id: fireTaskId(JOB, instant), fireTime: new Date(instant).toISOString() };
}

function created(task: FiredTask, member = 'scheduler-1'): CreatedEvent {
  return { taskId: task.id, actor: `scheduler/${member}/7` };
}

test('one fire a second, each created once: no problem, and who created them', () => {
  const tasks = [0, 1, 2, 3].map((s) => fire(T0 + s * 1000));
  const events = [
    created(tasks[0]),
    created(tasks[1]),
    created(tasks[2], 'scheduler-2'),
    created(tasks[3], 'scheduler-2'),
  ];
  const check = checkFires(JOB, 1000, [...tasks].reverse(), events);
  expect(check.problems).toEqual([]);
  expect(check.instants).toEqual([0, 1, 2, 3].map((s) => T0 + s * 1000));
  expect(Object.fromEntries(check.createdBy)).toEqual({ 'scheduler-1': 2, 'scheduler-2': 2 });
});

test('a missing instant, an instant fired twice, a duplicate and a stray creation are named', () => {
  const tasks = [
    fire(T0),
    fire(T0 + 3000),
    { id: 'other', fireTime: new Date(T0 + 3000).toISOString() },
  ];
  const events = [created(tasks[0]), created(tasks[0]), created({ id: 'stray', fireTime: null })];
  const problems = checkFires(JOB, 1000, tasks, events).problems;
  expect(problems).toEqual([
    `task other is not named after its instant (${fireTaskId(JOB, T0 + 3000)})`,
    '2 instant(s) missing after 2026-12-06T12:00:00.000Z',
    'instant 2026-12-06T12:00:03.000Z fired twice',
    'task.created for stray, which is not a task of the job',
    `task ${fireTaskId(JOB, T0)} has 2 task.created events in the history`,
    `task ${fireTaskId(JOB, T0 + 3000)} has 0 task.created events in the history`,
    'task other has 0 task.created events in the history',
  ]);
});

test('a task without a fire time is a problem, not a crash', () => {
  const check = checkFires(
    JOB,
    1000,
    [{ id: 'x', fireTime: null }],
    [created({ id: 'x', fireTime: null })],
  );
  expect(check.problems).toEqual(['task x has no fire time']);
});
