/** Which services run, with their member ids and ports (base + 10 × index, DESIGN.md). */
import type { StartOptions } from './options';
import { isPortFree } from './ports';
import type { BasePorts } from './settings';

export type AppName = 'scheduler' | 'worker' | 'registry';

export interface ServiceSpec {
  app: AppName;
  /** MEMBER_ID: `scheduler-1`, `worker-2`, `registry-1`. */
  memberId: string;
  httpPort: number;
  /** Schedulers and the registry (workers serve no gRPC API). */
  grpcPort?: number;
}

const REPLICA_PORT_STEP = 10;

export function planTopology(options: StartOptions, ports: BasePorts): ServiceSpec[] {
  const replicas = (app: AppName, count: number, http: number, grpc?: number): ServiceSpec[] =>
    Array.from({ length: count }, (_, index) => ({
      app,
      memberId: `${app}-${index + 1}`,
      httpPort: http + REPLICA_PORT_STEP * index,
      ...(grpc === undefined ? {} : { grpcPort: grpc + REPLICA_PORT_STEP * index }),
    }));
  // One registry: its replicas would only stand by to drain the outbox.
  return [
    ...replicas('scheduler', options.schedulers, ports.schedulerHttp, ports.schedulerGrpc),
    ...replicas('registry', 1, ports.registryHttp, ports.registryGrpc),
    ...replicas('worker', options.workers, ports.workerHttp),
  ];
}

/** Every port the services need, each once; throws naming the taken ones (before anything starts). */
export async function checkServicePorts(specs: readonly ServiceSpec[]): Promise<void> {
  const wanted = new Map<number, string>();
  for (const spec of specs) {
    for (const [port, kind] of [
      [spec.httpPort, 'HTTP'],
      [spec.grpcPort, 'gRPC'],
    ] as const) {
      if (port === undefined) continue;
      const other = wanted.get(port);
      if (other !== undefined) {
        throw new Error(
          `port ${port} is planned twice (${other} and ${spec.memberId} ${kind}); change the ZKS_*_PORT bases`,
        );
      }
      wanted.set(port, `${spec.memberId} ${kind}`);
    }
  }
  const taken: string[] = [];
  for (const [port, user] of wanted) {
    if (!(await isPortFree(port))) taken.push(`${port} (${user})`);
  }
  if (taken.length > 0) {
    throw new Error(
      `port(s) in use: ${taken.join(', ')}. Stop what uses them (an earlier npm start?), or move ` +
        `the bases with ZKS_SCHEDULER_HTTP_PORT, ZKS_SCHEDULER_GRPC_PORT, ZKS_REGISTRY_HTTP_PORT, ZKS_REGISTRY_GRPC_PORT, ` +
        `ZKS_WORKER_HTTP_PORT`,
    );
  }
}
