import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ApiTokens,
  ConfigValidationError,
  SubmissionRateLimiter,
  bearerToken,
  loadApiAuthSettings,
  roleAllows,
} from '@app/common';

function tokensFile(content: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'zks-auth-')), 'tokens.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function messages(env: Record<string, string>): string[] {
  try {
    loadApiAuthSettings(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems.map((p) => p.message);
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadApiAuthSettings', () => {
  it('is open by default', () => {
    expect(loadApiAuthSettings({})).toEqual({
      tokens: [],
      metricsRequireToken: false,
      rateLimitPerMinute: 0,
    });
  });

  it('names API_TOKEN "default" (admin) and reads named tokens from the file', () => {
    const file = tokensFile([{ name: 'ci', role: 'submitter', token: 'x'.repeat(16) }]);
    const settings = loadApiAuthSettings({
      API_TOKEN: 'single-0123456789abcdef',
      API_TOKENS_FILE: file,
      API_METRICS_REQUIRE_TOKEN: 'yes',
      API_RATE_LIMIT_PER_MINUTE: '600',
    });
    expect(settings.tokens).toEqual([
      { name: 'default', role: 'admin', token: 'single-0123456789abcdef' },
      { name: 'ci', role: 'submitter', token: 'x'.repeat(16) },
    ]);
    expect(settings.metricsRequireToken).toBe(true);
    expect(settings.rateLimitPerMinute).toBe(600);
  });

  it.each([
    [[{ name: 'a', role: 'root', token: 'x'.repeat(16) }], /role must be one of reader/],
    [[{ name: 'a', role: 'admin', token: 'short-secret' }], /at least 16 characters/],
    [[{ name: 'a b', role: 'admin', token: 'x'.repeat(16) }], /name must be/],
    [[], /non-empty JSON array/],
    ['{not json', /is not valid JSON/],
    [
      [
        { name: 'a', role: 'admin', token: 'x'.repeat(16) },
        { name: 'a', role: 'reader', token: 'y'.repeat(16) },
      ],
      /repeats the token name "a"/,
    ],
  ])('refuses a bad token file (%j) without quoting a token', (content, expected) => {
    const [message] = messages({ API_TOKENS_FILE: tokensFile(content) });
    expect(message).toMatch(expected);
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain('x'.repeat(16));
  });

  it('names a missing file, a bad boolean and a bad rate', () => {
    expect(
      messages({
        API_TOKENS_FILE: '/nonexistent/tokens.json',
        API_METRICS_REQUIRE_TOKEN: 'maybe',
        API_RATE_LIMIT_PER_MINUTE: '-1',
      }),
    ).toEqual([
      expect.stringMatching(/^API_TOKENS_FILE cannot be read \(ENOENT/),
      expect.stringMatching(/^API_METRICS_REQUIRE_TOKEN must be true or false/),
      expect.stringMatching(/^API_RATE_LIMIT_PER_MINUTE must be a whole number/),
    ]);
  });
});

describe('ApiTokens', () => {
  const tokens = new ApiTokens([
    { name: 'ops', role: 'admin', token: 'admin-secret' },
    { name: 'dash', role: 'reader', token: 'reader-secret' },
  ]);

  it('finds the principal of a token and nothing for others', () => {
    expect(tokens.verify('reader-secret')).toEqual({ name: 'dash', role: 'reader' });
    expect(tokens.verify('admin-secret')).toEqual({ name: 'ops', role: 'admin' });
    expect(tokens.verify('admin-secre')).toBeUndefined();
    expect(tokens.verify('')).toBeUndefined();
    expect(new ApiTokens([]).enabled).toBe(false);
  });

  it('parses only Bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('orders roles reader < submitter < admin', () => {
    expect(roleAllows('admin', 'submitter')).toBe(true);
    expect(roleAllows('submitter', 'submitter')).toBe(true);
    expect(roleAllows('reader', 'submitter')).toBe(false);
    expect(roleAllows('submitter', 'admin')).toBe(false);
  });
});

describe('SubmissionRateLimiter', () => {
  it('allows a burst of perMinute per key, then refills over time', () => {
    let now = 0;
    const limiter = new SubmissionRateLimiter(2, () => now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(30_000);
    expect(limiter.take('b')).toBe(0);
    now = 30_000;
    expect(limiter.take('a')).toBe(0);
    expect(new SubmissionRateLimiter(0).take('a')).toBe(0);
  });
});
