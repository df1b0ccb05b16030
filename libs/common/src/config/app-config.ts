import { classifyAddress } from '../outbound/address-ranges';
import type { LogLevel, RequestLogMode } from './environment-variables';

export type ServiceName = 'scheduler' | 'worker' | 'registry';

/** What a service tells the shared runtime about itself. */
export interface ServiceDescriptor {
  readonly name: ServiceName;
  readonly defaultHttpPort: number;
  /** Omitted for a service without a gRPC API: GRPC_PORT is then neither read nor checked. */
  readonly defaultGrpcPort?: number;
}

export interface ZooKeeperConfig {
  /** `host:port[,host:port…][/chroot]` */
  readonly connect: string;
  /** Root znode of this cluster, absolute, no trailing slash. */
  readonly root: string;
  readonly sessionTimeoutMs: number;
  /** ZK_AUTH, `user:password` (digest scheme); unset: open ACLs. Masked in toJSON. */
  readonly digest?: string;
}

export interface WorkerConfig {
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly allowShell: boolean;
}

export interface AppConfigValues {
  readonly service: ServiceName;
  readonly zooKeeper: ZooKeeperConfig;
  /** Unset: the audit store picks its embedded default. */
  readonly databaseUrl: string | undefined;
  readonly httpPort: number;
  /** Undefined for a service without a gRPC API. */
  readonly grpcPort: number | undefined;
  readonly worker: WorkerConfig;
  /** When set, the APIs require `Authorization: Bearer <token>`. */
  readonly apiToken: string | undefined;
  readonly logLevel: LogLevel;
  /** LOG_REQUESTS: a line for every answered HTTP request, or for failed ones only. */
  readonly logRequests: RequestLogMode;
  /** HEAP_GROWTH_PERCENT: how far V8's heap may grow past what is live (0: V8 decides). */
  readonly heapGrowthPercent: number;
  /** This process's id in the cluster: its member node and audit actor. */
  readonly memberId: string;
  /** The host others reach this process at: the host part of its member endpoint. */
  readonly advertisedHost: string;
  /** BIND_HOST: the address the listeners bind to; undefined = every interface. */
  readonly bindHost: string | undefined;
}

/**
 * The validated, typed configuration of one service process; also its
 * injection token (`constructor(private readonly config: AppConfig)`).
 * Built only by `loadAppConfig`; frozen.
 */
export class AppConfig implements AppConfigValues {
  readonly service: ServiceName;
  readonly zooKeeper: ZooKeeperConfig;
  readonly databaseUrl: string | undefined;
  readonly httpPort: number;
  readonly grpcPort: number | undefined;
  readonly worker: WorkerConfig;
  readonly apiToken: string | undefined;
  readonly logLevel: LogLevel;
  readonly logRequests: RequestLogMode;
  readonly heapGrowthPercent: number;
  readonly memberId: string;
  readonly advertisedHost: string;
  readonly bindHost: string | undefined;

  constructor(values: AppConfigValues) {
    this.service = values.service;
    this.zooKeeper = Object.freeze({ ...values.zooKeeper });
    this.databaseUrl = values.databaseUrl;
    this.httpPort = values.httpPort;
    this.grpcPort = values.grpcPort;
    this.worker = Object.freeze({
      ...values.worker,
      labels: Object.freeze({ ...values.worker.labels }),
    });
    this.apiToken = values.apiToken;
    this.logLevel = values.logLevel;
    this.logRequests = values.logRequests;
    this.heapGrowthPercent = values.heapGrowthPercent;
    this.memberId = values.memberId;
    this.advertisedHost = values.advertisedHost;
    this.bindHost = values.bindHost;
    Object.freeze(this);
  }

  /** Listening on loopback only (BIND_HOST 127.x, ::1 or localhost): not reachable from the network. */
  get loopbackOnly(): boolean {
    const host = this.bindHost;
    return (
      host !== undefined && (host === 'localhost' || classifyAddress(host)?.range === 'loopback')
    );
  }

  /** `host:port` for a gRPC server on `port`: BIND_HOST, or every interface. */
  grpcListenAddress(port: number): string {
    const host = this.bindHost ?? '0.0.0.0';
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }

  /** For logs: secrets masked. */
  toJSON(): Record<string, unknown> {
    const { databaseUrl, apiToken, zooKeeper, ...rest } = this;
    return {
      ...rest,
      zooKeeper: { ...zooKeeper, digest: zooKeeper.digest === undefined ? undefined : '<set>' },
      databaseUrl: databaseUrl === undefined ? undefined : '<set>',
      apiToken: apiToken === undefined ? undefined : '<set>',
    };
  }
}
