import { scheduleWords } from '../src/logic/schedule-words';

describe('scheduleWords', () => {
  it.each([
    ['* * * * *', 'every minute'],
    ['*/5 * * * *', 'every 5 minutes'],
    ['0 * * * *', 'every hour at minute 0'],
    ['30 9 * * *', 'at 09:30'],
    ['0 9 * * 1-5', 'at 09:00 on Monday to Friday'],
    ['0 9 * * MON-FRI', 'at 09:00 on Monday to Friday'],
    ['0 3 * * 0', 'at 03:00 on Sunday'],
    ['0 3 * * 7', 'at 03:00 on Sunday'],
    ['0 0 1 * *', 'at 00:00 on day 1 of the month'],
    ['0 0 1,15 * *', 'at 00:00 on day 1 and 15 of the month'],
    ['0 12 * JAN,JUL *', 'at 12:00 in January and July'],
    ['0 8,12,18 * * *', 'at 08:00, 12:00, 18:00'],
    ['15 */2 * * *', 'at minute 15 of every 2 hours'],
    ['*/10 9-17 * * 1-5', 'every 10 minutes during hour 09–17 on Monday to Friday'],
    ['0 0 13 * 5', 'at 00:00 on Friday or on day 13 of the month'],
    ['*/15 * * * * *', 'every 15 seconds'],
    ['* * * * * *', 'every second'],
    ['30 0 9 * * *', 'at second 30, at 09:00'],
    ['0 30 9 * * 1', 'at 09:30 on Monday'],
  ])('%s → %s', (expression, words) => {
    expect(scheduleWords(expression)).toBe(words);
  });

  it.each(['61 * * * *', '* * *', 'L * * * *', '5-1 * * * *', '*/0 * * * *', '0 9 * * FOO'])(
    'falls back to the expression for %s',
    (expression) => {
      expect(scheduleWords(expression)).toBe(`cron ${expression}`);
    },
  );
});
