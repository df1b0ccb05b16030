import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import {
  apiTokenProblem,
  advertisedHostProblem,
  bindHostProblem,
  memberIdProblem,
  parseLabels,
  postgresUrlProblem,
  zkAuthProblem,
  zkConnectProblem,
  znodePathProblem,
} from './value-checks';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Which HTTP requests get a log line: `failed` (4xx and 5xx) or `all`. */
export const REQUEST_LOG_MODES = ['failed', 'all'] as const;
export type RequestLogMode = (typeof REQUEST_LOG_MODES)[number];

/**
 * Session timeout bounds. Below 1 s a GC pause or a slow fsync expires healthy
 * sessions; above 2 min a dead worker keeps its tasks far too long. The server
 * clamps further to [2, 20] × its tickTime.
 */
export const ZK_SESSION_TIMEOUT_MIN_MS = 1_000;
export const ZK_SESSION_TIMEOUT_MAX_MS = 120_000;
export const WORKER_CAPACITY_MAX = 1_024;
export const HEAP_GROWTH_PERCENT_MAX = 300;

/** Defaults shared by every service (ports are per service, see ServiceDescriptor). */
export const ENVIRONMENT_DEFAULTS = {
  ZK_CONNECT: '127.0.0.1:2181',
  ZK_ROOT: '/zk-scheduler',
  ZK_SESSION_TIMEOUT_MS: '10000',
  WORKER_CAPACITY: '8',
  WORKER_LABELS: '',
  WORKER_ALLOW_SHELL: 'false',
  LOG_LEVEL: 'info',
  // A line per answered request costs more CPU than a submission's own work
  // at thousands of requests per second: failures only, unless asked.
  LOG_REQUESTS: 'failed',
  // V8 would let its heap grow to 4× what is live between full collections:
  // at 100,000 jobs a scheduler's RSS went past 450 MB with 125 MB live.
  HEAP_GROWTH_PERCENT: '60',
} as const;

/** Variables whose value must never appear in an error message or a log line. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'DATABASE_URL',
  'API_TOKEN',
  'ZK_AUTH',
]);

/** A strict integer: optional sign and digits only (`1e4`, `0x10`, `12.5` stay strings). */
function toInteger({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : value;
}

function toBoolean({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  return value;
}

/** A class-validator decorator from a `(value) => reason | undefined` check. */
function Satisfies(
  name: string,
  problemOf: (value: string) => string | undefined,
): PropertyDecorator {
  const problem = (value: unknown): string | undefined =>
    typeof value === 'string' ? problemOf(value) : 'must be a string';
  return ValidateBy({
    name,
    validator: {
      validate: (value: unknown) => problem(value) === undefined,
      defaultMessage: (args) => `${args?.property ?? 'value'} ${problem(args?.value) ?? ''}`,
    },
  });
}

const INTEGER = { message: '$property must be an integer' };

/** A TCP port; 0 asks the OS for a free one (tests, several replicas on one host). */
function IsPort(): PropertyDecorator {
  const range = { message: '$property must be a port number between 0 and 65535' };
  // applyDecorators applies in list order (the reverse of stacking): type check first.
  return applyDecorators(Transform(toInteger), IsInt(INTEGER), Min(0, range), Max(65535, range));
}

// class-validator runs a property's stacked constraints bottom-up and, with
// stopAtFirstError, reports the first that fails: the type check sits lowest so
// that "abc" reads "must be an integer", not "must be at most …".

/**
 * The environment as validated at start. Values arrive as strings (blank counts
 * as unset, defaults already applied) and leave as the types declared here.
 */
export class EnvironmentVariables {
  @Satisfies('zkConnect', zkConnectProblem)
  ZK_CONNECT!: string;

  @Satisfies('znodePath', znodePathProblem)
  ZK_ROOT!: string;

  @Transform(toInteger)
  @Max(ZK_SESSION_TIMEOUT_MAX_MS, { message: '$property must be at most $constraint1 (ms)' })
  @Min(ZK_SESSION_TIMEOUT_MIN_MS, { message: '$property must be at least $constraint1 (ms)' })
  @IsInt(INTEGER)
  ZK_SESSION_TIMEOUT_MS!: number;

  /** `user:password`: every znode gets a digest ACL and each session authenticates. */
  @IsOptional()
  @Satisfies('zkAuth', zkAuthProblem)
  ZK_AUTH?: string;

  @IsOptional()
  @Satisfies('postgresUrl', postgresUrlProblem)
  DATABASE_URL?: string;

  @IsPort()
  HTTP_PORT!: number;

  /** Absent for a service without a gRPC API. */
  @IsOptional()
  @IsPort()
  GRPC_PORT?: number;

  @Transform(toInteger)
  @Max(WORKER_CAPACITY_MAX, { message: '$property must be at most $constraint1' })
  @Min(1, { message: '$property must be at least $constraint1' })
  @IsInt(INTEGER)
  WORKER_CAPACITY!: number;

  @Satisfies('labels', (value) => {
    const parsed = parseLabels(value);
    return parsed.ok ? undefined : parsed.problem;
  })
  WORKER_LABELS!: string;

  @Transform(toBoolean)
  @IsBoolean({ message: '$property must be true or false' })
  WORKER_ALLOW_SHELL!: boolean;

  @IsOptional()
  @Satisfies('apiToken', apiTokenProblem)
  API_TOKEN?: string;

  @IsIn(LOG_LEVELS, { message: `$property must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL!: LogLevel;

  @IsIn(REQUEST_LOG_MODES, {
    message: `$property must be one of ${REQUEST_LOG_MODES.join(', ')}`,
  })
  LOG_REQUESTS!: RequestLogMode;

  /** V8's heap may grow to (1 + this/100) × what is live before a full collection; 0 = V8 decides. */
  @Transform(toInteger)
  @Max(HEAP_GROWTH_PERCENT_MAX, { message: '$property must be at most $constraint1' })
  @Min(0, { message: '$property must be at least $constraint1' })
  @IsInt(INTEGER)
  HEAP_GROWTH_PERCENT!: number;

  /** This process's id in the cluster (member node name); default `<hostname>-<pid>`. */
  @IsOptional()
  @Satisfies('memberId', memberIdProblem)
  MEMBER_ID?: string;

  /** The address the HTTP and gRPC listeners bind to; default every interface. */
  @IsOptional()
  @Satisfies('bindHost', bindHostProblem)
  BIND_HOST?: string;

  /** The host in this process's member endpoint (what others dial); default the OS hostname. */
  @IsOptional()
  @Satisfies('advertisedHost', advertisedHostProblem)
  ADVERTISED_HOST?: string;
}

export type EnvironmentVariableName = keyof EnvironmentVariables;

export const ENVIRONMENT_VARIABLE_NAMES: readonly EnvironmentVariableName[] = [
  'ZK_CONNECT',
  'ZK_ROOT',
  'ZK_SESSION_TIMEOUT_MS',
  'ZK_AUTH',
  'DATABASE_URL',
  'HTTP_PORT',
  'GRPC_PORT',
  'WORKER_CAPACITY',
  'WORKER_LABELS',
  'WORKER_ALLOW_SHELL',
  'API_TOKEN',
  'LOG_LEVEL',
  'LOG_REQUESTS',
  'HEAP_GROWTH_PERCENT',
  'MEMBER_ID',
  'ADVERTISED_HOST',
  'BIND_HOST',
];
