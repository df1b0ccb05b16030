import { randomUUID } from 'node:crypto';
import { parseOutboxEntry } from '../../src/audit-drain/outbox-entry';
import { isEntryName } from '../../src/audit-drain/outbox-queue';

const event = { id: randomUUID(), time: 1_700_000_000_000, type: 'task.created', actor: 'a/b/1' };

describe('parseOutboxEntry', () => {
  it('reads the events of an outbox node, in order', () => {
    const second = { ...event, id: randomUUID(), taskId: 't', attempt: 2, detail: { x: 1 } };
    expect(parseOutboxEntry(Buffer.from(JSON.stringify({ events: [event, second] })))).toEqual({
      ok: true,
      events: [event, second],
    });
  });

  it.each([
    ['not JSON', '{"events": [', /^not JSON/],
    ['not an entry', '[1, 2]', /expected \{ "events"/],
    ['events not a list', '{"events": {}}', /expected \{ "events"/],
    [
      'an id that is not a UUID',
      JSON.stringify({ events: [{ ...event, id: 'x' }] }),
      /events\[0\]: id/,
    ],
    ['no time', JSON.stringify({ events: [{ ...event, time: 'now' }] }), /events\[0\]: time/],
    [
      'a fractional attempt',
      JSON.stringify({ events: [event, { ...event, attempt: 1.5 }] }),
      /events\[1\]: attempt/,
    ],
  ])('sets aside %s', (_case, data, reason) => {
    const parsed = parseOutboxEntry(Buffer.from(data));
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });
});

describe('isEntryName', () => {
  it('takes only sequential outbox names', () => {
    expect(isEntryName('e-0000000042')).toBe(true);
    expect(isEntryName('e-42')).toBe(false);
    expect(isEntryName('x-0000000042')).toBe(false);
  });
});
