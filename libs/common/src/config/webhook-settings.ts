import { allowedHostProblem } from '../outbound/outbound-policy';
import { ConfigValidationError, type ConfigProblem, type Environment } from './load-app-config';
import { withFileSecrets } from './secret-files';

/**
 * Webhook settings (`WEBHOOK_*`), shared by the scheduler (which checks and
 * seals what the API receives) and the registry (which delivers). Both need
 * the same WEBHOOK_SECRET_KEY and WEBHOOK_ALLOWED_HOSTS.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `WEBHOOK_SECRET_KEY` (or `_FILE`) | 32 bytes, base64 or hex: seals subscription secrets at rest | unset: the webhook API answers 503 and nothing is delivered |
 * | `WEBHOOK_ALLOWED_HOSTS` | comma list of hosts webhooks may call, like `WORKER_HTTP_ALLOWED_HOSTS` | any host with public addresses only |
 * | `WEBHOOK_TIMEOUT_MS` | longest attempt (connect to last byte) | 10000 |
 * | `WEBHOOK_MAX_RESPONSE_BYTES` | larger answers fail the attempt | 65536 |
 * | `WEBHOOK_RETRY_FOR_MS` | a delivery is retried this long after it was queued, then marked failed | 86400000 (24 h) |
 * | `WEBHOOK_BACKOFF_MIN_MS` / `WEBHOOK_BACKOFF_MAX_MS` | first retry delay / ceiling (doubling, 20 % jitter) | 1000 / 3600000 |
 * | `WEBHOOK_MAX_IN_FLIGHT` | attempts in flight at once (one per subscription) | 32 |
 * | `WEBHOOK_POLL_MS` | how often the deliverer looks for due retries and new events | 500 |
 */
export interface WebhookSettings {
  /** Undefined: webhooks are off (no key to seal secrets with). */
  readonly secretKey: Buffer | undefined;
  readonly allowedHosts: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly retryForMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly maxInFlight: number;
  readonly pollMs: number;
}

type NumberKey = Exclude<keyof WebhookSettings, 'secretKey' | 'allowedHosts'>;

const NUMBERS: ReadonlyArray<[string, NumberKey, number, number, number]> = [
  ['WEBHOOK_TIMEOUT_MS', 'timeoutMs', 10_000, 100, 120_000],
  ['WEBHOOK_MAX_RESPONSE_BYTES', 'maxResponseBytes', 65_536, 1_024, 10_485_760],
  ['WEBHOOK_RETRY_FOR_MS', 'retryForMs', 86_400_000, 0, 30 * 86_400_000],
  ['WEBHOOK_BACKOFF_MIN_MS', 'backoffMinMs', 1_000, 10, 3_600_000],
  ['WEBHOOK_BACKOFF_MAX_MS', 'backoffMaxMs', 3_600_000, 10, 86_400_000],
  ['WEBHOOK_MAX_IN_FLIGHT', 'maxInFlight', 32, 1, 1_000],
  ['WEBHOOK_POLL_MS', 'pollMs', 500, 10, 60_000],
];

/** Injection token of the validated WebhookSettings. */
export const WEBHOOK_SETTINGS = Symbol('WEBHOOK_SETTINGS');

export function loadWebhookSettings(given: Environment): WebhookSettings {
  const { env, problems } = withFileSecrets(given);
  const issues: ConfigProblem[] = problems.filter((p) => p.variable.startsWith('WEBHOOK_'));
  const values: Partial<Record<NumberKey, number>> = {};
  for (const [variable, key, fallback, min, max] of NUMBERS) {
    const raw = env[variable]?.trim();
    if (!raw) {
      values[key] = fallback;
      continue;
    }
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      issues.push({
        variable,
        message: `${variable} must be a whole number between ${min} and ${max} (got "${raw}")`,
      });
    } else values[key] = value;
  }
  const secretKey = parseKey(env.WEBHOOK_SECRET_KEY?.trim(), issues);
  const hosts = env.WEBHOOK_ALLOWED_HOSTS?.split(',')
    .map((host) => host.trim())
    .filter((host) => host !== '');
  const badHost = hosts?.map(allowedHostProblem).find((p) => p !== undefined);
  if (badHost !== undefined) {
    issues.push({
      variable: 'WEBHOOK_ALLOWED_HOSTS',
      message: `WEBHOOK_ALLOWED_HOSTS has an invalid entry: ${badHost}`,
    });
  }
  if ((values.backoffMaxMs ?? 0) < (values.backoffMinMs ?? 0)) {
    issues.push({
      variable: 'WEBHOOK_BACKOFF_MAX_MS',
      message: 'WEBHOOK_BACKOFF_MAX_MS must not be below WEBHOOK_BACKOFF_MIN_MS',
    });
  }
  if (issues.length > 0) throw new ConfigValidationError(issues);
  return Object.freeze({
    ...(values as Record<NumberKey, number>),
    secretKey,
    allowedHosts: hosts === undefined || hosts.length === 0 ? undefined : hosts,
  });
}

/** 32 bytes as 64 hex digits or base64 (standard or url-safe); the message never shows the value. */
function parseKey(raw: string | undefined, issues: ConfigProblem[]): Buffer | undefined {
  if (!raw) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw)
    ? Buffer.from(raw, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(raw)
      ? Buffer.from(raw, raw.includes('-') || raw.includes('_') ? 'base64url' : 'base64')
      : undefined;
  if (key?.length === 32) return key;
  issues.push({
    variable: 'WEBHOOK_SECRET_KEY',
    message:
      'WEBHOOK_SECRET_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)',
  });
  return undefined;
}
