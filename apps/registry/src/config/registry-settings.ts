import { ConfigValidationError, type ConfigProblem, type Environment } from '@app/common';

/**
 * The registry's own settings (`REGISTRY_*`), read here rather than in the
 * shared AppConfig because no other service has them. A wrong value stops the
 * registry with a message naming every bad variable, like the shared settings.
 */
export interface RegistrySettings {
  /** Outbox depth (nodes) above which the drain logs a warning. */
  readonly outboxWarnDepth: number;
  /** How long a finished task stays in ZooKeeper after `finishedAt` once its history is stored. */
  readonly retentionMs: number;
  /** Most outbox nodes per drain batch. */
  readonly batchNodes: number;
  /** A batch stops growing once it holds this many events (a single node may hold more). */
  readonly batchEvents: number;
  /** A batch stops growing once its nodes hold this many bytes. */
  readonly batchBytes: number;
  /** Longest wait between attempts while PostgreSQL fails (the first waits 100 ms, then doubles). */
  readonly maxBackoffMs: number;
  /** Comment lines sent on idle `/v1/events` streams so proxies keep them open. */
  readonly sseHeartbeatMs: number;
  /** How often live streams look for new rows in PostgreSQL (the drainer's own are immediate). */
  readonly eventsPollMs: number;
  /** Live `/v1/events` streams one caller (token, or address without tokens) may hold open. */
  readonly maxStreamsPerCaller: number;
  /** A stream may resume at most this many events behind the newest (older ones: GET /v1/audit). */
  readonly maxReplayEvents: number;
  /**
   * Testing only: pause after each PostgreSQL commit, before the drained nodes
   * are deleted, so that a test can kill the drainer between the two. 0 in production.
   */
  readonly drainPauseMs: number;
}

interface Spec {
  variable: string;
  key: keyof RegistrySettings;
  fallback: number;
  min: number;
  max: number;
}

const SPECS: readonly Spec[] = [
  {
    variable: 'REGISTRY_OUTBOX_WARN_DEPTH',
    key: 'outboxWarnDepth',
    fallback: 10_000,
    min: 1,
    max: 100_000_000,
  },
  {
    variable: 'REGISTRY_RETENTION_MS',
    key: 'retentionMs',
    fallback: 60_000,
    min: 0,
    max: 30 * 86_400_000,
  },
  { variable: 'REGISTRY_DRAIN_BATCH_NODES', key: 'batchNodes', fallback: 500, min: 1, max: 5_000 },
  {
    variable: 'REGISTRY_DRAIN_BATCH_EVENTS',
    key: 'batchEvents',
    fallback: 2_000,
    min: 1,
    max: 100_000,
  },
  {
    variable: 'REGISTRY_DRAIN_BATCH_BYTES',
    key: 'batchBytes',
    fallback: 4_000_000,
    min: 1_000,
    max: 256_000_000,
  },
  {
    variable: 'REGISTRY_DRAIN_MAX_BACKOFF_MS',
    key: 'maxBackoffMs',
    fallback: 5_000,
    min: 100,
    max: 600_000,
  },
  {
    variable: 'REGISTRY_SSE_HEARTBEAT_MS',
    key: 'sseHeartbeatMs',
    fallback: 15_000,
    min: 100,
    max: 3_600_000,
  },
  { variable: 'REGISTRY_EVENTS_POLL_MS', key: 'eventsPollMs', fallback: 250, min: 10, max: 60_000 },
  {
    variable: 'REGISTRY_MAX_STREAMS_PER_CALLER',
    key: 'maxStreamsPerCaller',
    fallback: 10,
    min: 1,
    max: 10_000,
  },
  {
    variable: 'REGISTRY_MAX_REPLAY_EVENTS',
    key: 'maxReplayEvents',
    fallback: 100_000,
    min: 0,
    max: 100_000_000,
  },
  { variable: 'REGISTRY_DRAIN_PAUSE_MS', key: 'drainPauseMs', fallback: 0, min: 0, max: 600_000 },
];

/** Injection token of the validated RegistrySettings. */
export const REGISTRY_SETTINGS = Symbol('REGISTRY_SETTINGS');

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = Object.freeze(
  Object.fromEntries(SPECS.map((spec) => [spec.key, spec.fallback])) as unknown as RegistrySettings,
);

export function loadRegistrySettings(env: Environment): RegistrySettings {
  const values: Record<string, number> = {};
  const problems: ConfigProblem[] = [];
  for (const spec of SPECS) {
    const raw = env[spec.variable]?.trim();
    if (raw === undefined || raw === '') {
      values[spec.key] = spec.fallback;
      continue;
    }
    const value = Number(raw);
    const problem = !/^\d+$/.test(raw)
      ? 'must be a whole number'
      : value < spec.min || value > spec.max
        ? `must be between ${spec.min} and ${spec.max}`
        : undefined;
    if (problem === undefined) values[spec.key] = value;
    else
      problems.push({
        variable: spec.variable,
        message: `${spec.variable} ${problem} (got "${raw}")`,
      });
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return Object.freeze(values as unknown as RegistrySettings);
}
