import { randomBytes } from 'node:crypto';
import { ConfigValidationError, loadWebhookSettings } from '../src';

test('defaults: webhooks off without a key, 24 h of retries, public hosts only', () => {
  const settings = loadWebhookSettings({});
  expect(settings.secretKey).toBeUndefined();
  expect(settings.retryForMs).toBe(86_400_000);
  expect(settings.allowedHosts).toBeUndefined();
});

test('a key in hex or base64, hosts as a list', () => {
  const key = randomBytes(32);
  expect(loadWebhookSettings({ WEBHOOK_SECRET_KEY: key.toString('hex') }).secretKey).toEqual(key);
  expect(loadWebhookSettings({ WEBHOOK_SECRET_KEY: key.toString('base64') }).secretKey).toEqual(
    key,
  );
  expect(
    loadWebhookSettings({ WEBHOOK_ALLOWED_HOSTS: 'a.example.com, 127.0.0.1' }).allowedHosts,
  ).toEqual(['a.example.com', '127.0.0.1']);
});

test('wrong values name the variable, never the key', () => {
  const error = (() => {
    try {
      loadWebhookSettings({
        WEBHOOK_SECRET_KEY: 'too-short-secret-value',
        WEBHOOK_TIMEOUT_MS: 'soon',
        WEBHOOK_ALLOWED_HOSTS: 'http://x',
      });
    } catch (caught) {
      return caught;
    }
    return undefined;
  })() as ConfigValidationError;
  expect(error).toBeInstanceOf(ConfigValidationError);
  expect(error.problems.map((p) => p.variable).sort()).toEqual([
    'WEBHOOK_ALLOWED_HOSTS',
    'WEBHOOK_SECRET_KEY',
    'WEBHOOK_TIMEOUT_MS',
  ]);
  expect(error.message).not.toContain('too-short-secret-value');
});
