import { historyCursor, parseTaskCursor } from '../../src/api/tasks/task-cursor';

describe('the cursor of GET /v1/tasks', () => {
  it('is a task id while listing live tasks, h~<id> in the history', () => {
    expect(parseTaskCursor(undefined)).toEqual({ phase: 'live' });
    expect(parseTaskCursor('abc@123')).toEqual({ phase: 'live', after: 'abc@123' });
    expect(parseTaskCursor('h~')).toEqual({ phase: 'history' });
    expect(parseTaskCursor('h~abc@123')).toEqual({ phase: 'history', after: 'abc@123' });
    expect(historyCursor()).toBe('h~');
    expect(parseTaskCursor(historyCursor('x-1'))).toEqual({ phase: 'history', after: 'x-1' });
  });
});
