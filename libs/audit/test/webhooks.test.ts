import { createHmac, randomBytes } from 'node:crypto';
import {
  SecretBox,
  generateWebhookSecret,
  verifyWebhookSignature,
  webhookSignature,
  wantedType,
  webhookTypesOf,
} from '../src/webhooks';

describe('webhook signature', () => {
  const body = '{"id":"e1","type":"task.failed"}';

  test('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const expected = createHmac('sha256', 'k').update(`1700000000.${body}`).digest('hex');
    expect(webhookSignature('k', body, 1_700_000_000)).toBe(`t=1700000000,v1=${expected}`);
  });

  test('verifies with the same secret and body within the tolerance only', () => {
    const header = webhookSignature('secret', body, 1_000);
    expect(verifyWebhookSignature(header, body, 'secret', { nowSeconds: 1_100 })).toBe(true);
    expect(verifyWebhookSignature(header, body, 'other', { nowSeconds: 1_100 })).toBe(false);
    expect(verifyWebhookSignature(header, `${body} `, 'secret', { nowSeconds: 1_100 })).toBe(false);
    expect(verifyWebhookSignature(header, body, 'secret', { nowSeconds: 2_000 })).toBe(false);
    expect(verifyWebhookSignature('t=x,v1=00', body, 'secret')).toBe(false);
    expect(verifyWebhookSignature('', body, 'secret')).toBe(false);
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  test('opens what it sealed for the same id, never the clear text stored', () => {
    const sealed = box.seal('whsec_abc', 'id-1');
    expect(sealed).not.toContain('whsec_abc');
    expect(box.open(sealed, 'id-1')).toBe('whsec_abc');
    expect(box.seal('whsec_abc', 'id-1')).not.toBe(sealed);
  });

  test('refuses another id, another key, or an altered value', () => {
    const sealed = box.seal('s', 'id-1');
    expect(() => box.open(sealed, 'id-2')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'id-1')).toThrow();
    const parts = sealed.split(':');
    parts[3] = Buffer.from('x').toString('base64url');
    expect(() => box.open(parts.join(':'), 'id-1')).toThrow();
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });

  test('generated secrets are long and distinct', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});

describe('webhookTypesOf', () => {
  test.each([
    ['task.failed', { state: 'failed' }, ['task.failed']],
    ['task.failed', { state: 'retrying' }, []],
    ['task.failed', { state: 'running' }, []],
    ['task.timed_out', { state: 'retrying' }, ['task.timed_out']],
    ['task.timed_out', { state: 'failed' }, ['task.failed', 'task.timed_out']],
    ['task.reassigned', undefined, ['task.reassigned']],
    ['worker.left', undefined, ['worker.left']],
    ['audit.backlog', undefined, ['audit.backlog']],
    ['leader.elected', undefined, ['leader.changed']],
    ['task.skipped', { reason: 'misfire' }, ['job.misfired']],
    ['task.skipped', { reason: 'concurrency' }, []],
    ['task.retry_scheduled', undefined, []],
    ['task.succeeded', undefined, []],
    ['leader.revoked', undefined, []],
  ])('%s %j → %j', (type, detail, expected) => {
    expect(webhookTypesOf({ type, detail })).toEqual(expected);
  });
});

describe('wantedType', () => {
  const about = { jobId: 'j1', taskType: 'http' };
  test('the first of the event’s types the subscription asks for; `*`; every filter field', () => {
    const finalTimeout = ['task.failed', 'task.timed_out'] as const;
    expect(wantedType({ events: ['task.failed'], filter: {} }, ['task.failed'], about)).toBe(
      'task.failed',
    );
    expect(wantedType({ events: ['task.failed'], filter: {} }, ['worker.left'], about)).toBe(
      undefined,
    );
    expect(wantedType({ events: ['task.timed_out'], filter: {} }, finalTimeout, about)).toBe(
      'task.timed_out',
    );
    expect(
      wantedType({ events: ['task.timed_out', 'task.failed'], filter: {} }, finalTimeout, about),
    ).toBe('task.failed');
    expect(wantedType({ events: ['*'], filter: {} }, ['worker.left'], {})).toBe('worker.left');
    const filtered = { events: ['*'], filter: { jobId: 'j1', taskType: 'http' } };
    expect(wantedType(filtered, ['task.failed'], about)).toBe('task.failed');
    expect(wantedType(filtered, ['task.failed'], { jobId: 'j1', taskType: 'noop' })).toBe(
      undefined,
    );
    expect(wantedType(filtered, ['worker.left'], {})).toBe(undefined);
  });
});
