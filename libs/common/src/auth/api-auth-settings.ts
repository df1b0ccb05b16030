import { readFileSync } from 'node:fs';
import type { Environment } from '../config/load-app-config';
import { ConfigValidationError } from '../config/load-app-config';
import { withFileSecrets } from '../config/secret-files';
import { MIN_TOKEN_LENGTH, apiTokenProblem } from '../config/value-checks';
import { isApiRole, API_ROLES } from './api-roles';
import type { ApiTokenEntry } from './api-tokens';

/**
 * API access settings, read beside the shared AppConfig (like the worker's own
 * settings) so that services without an API pay nothing for them:
 *
 * - `API_TOKEN` (or `API_TOKEN_FILE`): one token with the `admin` role, named `default`.
 * - `API_TOKENS_FILE`: a JSON file `[{ "name", "role", "token" }]` of named
 *   tokens (roles `admin`, `submitter`, `reader`); both may be set.
 * - `API_METRICS_REQUIRE_TOKEN`: `/metrics` needs a token too (default false).
 * - `API_RATE_LIMIT_PER_MINUTE`: writes (submissions, job changes) per token
 *   per minute; 0 = unlimited (default).
 */
export interface ApiAuthSettings {
  readonly tokens: readonly ApiTokenEntry[];
  readonly metricsRequireToken: boolean;
  readonly rateLimitPerMinute: number;
}

export const API_TOKEN_DEFAULT_NAME = 'default';
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAX_RATE_LIMIT_PER_MINUTE = 1_000_000;

export function loadApiAuthSettings(given: Environment): ApiAuthSettings {
  const { env, problems } = withFileSecrets(given);
  const tokens: ApiTokenEntry[] = [];
  const single = env.API_TOKEN?.trim();
  const singleProblem = single ? apiTokenProblem(single) : undefined;
  if (singleProblem !== undefined) {
    problems.push({ variable: 'API_TOKEN', message: `API_TOKEN ${singleProblem}` });
  } else if (single) {
    tokens.push({ name: API_TOKEN_DEFAULT_NAME, role: 'admin', token: single });
  }

  const file = env.API_TOKENS_FILE?.trim();
  if (file) {
    const loaded = readTokensFile(file);
    if (typeof loaded === 'string') {
      problems.push({ variable: 'API_TOKENS_FILE', message: `API_TOKENS_FILE ${loaded}` });
    } else {
      tokens.push(...loaded);
    }
  }
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const entry of tokens) {
    if (names.has(entry.name) || secrets.has(entry.token)) {
      problems.push({
        variable: 'API_TOKENS_FILE',
        message: `API_TOKENS_FILE repeats the token name "${entry.name}" or a token value (API_TOKEN is named "${API_TOKEN_DEFAULT_NAME}")`,
      });
    }
    names.add(entry.name);
    secrets.add(entry.token);
  }

  const metrics = env.API_METRICS_REQUIRE_TOKEN?.trim() || 'false';
  const metricsRequireToken = /^(true|1|yes|on)$/i.test(metrics);
  if (!metricsRequireToken && !/^(false|0|no|off)$/i.test(metrics)) {
    problems.push({
      variable: 'API_METRICS_REQUIRE_TOKEN',
      message: `API_METRICS_REQUIRE_TOKEN must be true or false (got "${metrics}")`,
    });
  }

  const rate = env.API_RATE_LIMIT_PER_MINUTE?.trim() || '0';
  if (!/^\d+$/.test(rate) || Number(rate) > MAX_RATE_LIMIT_PER_MINUTE) {
    problems.push({
      variable: 'API_RATE_LIMIT_PER_MINUTE',
      message: `API_RATE_LIMIT_PER_MINUTE must be a whole number from 0 (unlimited) to ${MAX_RATE_LIMIT_PER_MINUTE} (got "${rate}")`,
    });
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return { tokens, metricsRequireToken, rateLimitPerMinute: Number(rate) };
}

/** The entries of a token file, or why it cannot be used (never quoting a token). */
function readTokensFile(file: string): ApiTokenEntry[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `cannot be read (${code}: ${file})` : `is not valid JSON (${file})`;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    return 'must hold a non-empty JSON array of { "name", "role", "token" }';
  }
  const entries: ApiTokenEntry[] = [];
  for (const [index, item] of parsed.entries()) {
    const { name, role, token } = (item ?? {}) as Record<string, unknown>;
    const at = `entry ${index}`;
    if (typeof name !== 'string' || !TOKEN_NAME.test(name)) {
      return `${at}: name must be 1-64 letters, digits, dots, dashes or underscores`;
    }
    if (!isApiRole(role)) return `${at} (${name}): role must be one of ${API_ROLES.join(', ')}`;
    if (typeof token !== 'string' || /\s/.test(token) || token.length < MIN_TOKEN_LENGTH) {
      return `${at} (${name}): token must be at least ${MIN_TOKEN_LENGTH} characters without whitespace`;
    }
    entries.push({ name, role, token });
  }
  return entries;
}
