import { hostname } from 'node:os';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { AppConfig, type ServiceDescriptor } from './app-config';
import {
  ENVIRONMENT_DEFAULTS,
  ENVIRONMENT_VARIABLE_NAMES,
  EnvironmentVariables,
  SECRET_VARIABLES,
} from './environment-variables';
import { withFileSecrets } from './secret-files';
import { parseLabels } from './value-checks';

export interface ConfigProblem {
  readonly variable: string;
  /** Starts with the variable name: "ZK_ROOT must be an absolute znode path …". */
  readonly message: string;
}

/** A wrong environment: the service must not start. The message names every bad variable. */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates this service's variables from `env` (normally
 * `process.env`). Blank values count as unset; surrounding spaces are ignored.
 * Throws ConfigValidationError listing every wrong variable.
 */
export function loadAppConfig(given: Environment, service: ServiceDescriptor): AppConfig {
  // DATABASE_URL_FILE, ZK_AUTH_FILE, API_TOKEN_FILE: secrets from mounted files.
  const { env, problems: fileProblems } = withFileSecrets(given);
  const defaults: Record<string, string | undefined> = {
    ...ENVIRONMENT_DEFAULTS,
    HTTP_PORT: String(service.defaultHttpPort),
    GRPC_PORT: service.defaultGrpcPort === undefined ? undefined : String(service.defaultGrpcPort),
  };
  const raw: Record<string, string> = {};
  for (const name of ENVIRONMENT_VARIABLE_NAMES) {
    if (name === 'GRPC_PORT' && service.defaultGrpcPort === undefined) continue;
    const value = env[name]?.trim() || defaults[name];
    if (value !== undefined) raw[name] = value;
  }

  const vars = plainToInstance(EnvironmentVariables, raw);
  const problems = [
    ...fileProblems,
    ...validateSync(vars, { stopAtFirstError: true }).map((error) => describe(error, raw)),
  ];
  if (
    vars.GRPC_PORT !== undefined &&
    vars.GRPC_PORT !== 0 &&
    vars.GRPC_PORT === vars.HTTP_PORT &&
    problems.length === 0
  ) {
    problems.push({
      variable: 'GRPC_PORT',
      message: `GRPC_PORT must differ from HTTP_PORT (both are ${vars.HTTP_PORT})`,
    });
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);

  const labels = parseLabels(vars.WORKER_LABELS);
  return new AppConfig({
    service: service.name,
    zooKeeper: {
      connect: vars.ZK_CONNECT,
      root: vars.ZK_ROOT,
      sessionTimeoutMs: vars.ZK_SESSION_TIMEOUT_MS,
      ...(vars.ZK_AUTH === undefined ? {} : { digest: vars.ZK_AUTH }),
    },
    databaseUrl: vars.DATABASE_URL,
    httpPort: vars.HTTP_PORT,
    grpcPort: vars.GRPC_PORT,
    worker: {
      capacity: vars.WORKER_CAPACITY,
      labels: labels.ok ? labels.labels : {},
      allowShell: vars.WORKER_ALLOW_SHELL,
    },
    apiToken: vars.API_TOKEN,
    logLevel: vars.LOG_LEVEL,
    logRequests: vars.LOG_REQUESTS,
    heapGrowthPercent: vars.HEAP_GROWTH_PERCENT,
    memberId: vars.MEMBER_ID ?? `${hostname()}-${process.pid}`,
    advertisedHost: vars.ADVERTISED_HOST ?? hostname(),
    bindHost: vars.BIND_HOST,
  });
}

function describe(error: ValidationError, raw: Record<string, string>): ConfigProblem {
  const variable = error.property;
  const reason = Object.values(error.constraints ?? {})[0] ?? `${variable} has an invalid value`;
  const given = raw[variable];
  const echo = given === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got "${given}")`;
  return { variable, message: `${reason}${echo}` };
}
