import { RateWindow } from '../src/logic/rate-window';

describe('RateWindow', () => {
  it('fills quiet seconds with zeros and slides, dropping old seconds', () => {
    const window = new RateWindow(5);
    window.add(100, 'task.succeeded', 2);
    window.add(100, 'task.succeeded');
    window.add(102, 'task.failed');
    window.add(102, 'job.created'); // not an outcome: ignored
    let { x, values } = window.series(103);
    expect(x).toEqual([99, 100, 101, 102, 103]);
    expect(values['task.succeeded']).toEqual([0, 3, 0, 0, 0]);
    expect(values['task.failed']).toEqual([0, 0, 0, 1, 0]);
    ({ x, values } = window.series(105));
    expect(x).toEqual([101, 102, 103, 104, 105]);
    expect(values['task.succeeded']).toEqual([0, 0, 0, 0, 0]);
    expect(window.recentRate('task.failed', 105, 5)).toBeCloseTo(0.2);
  });
});
