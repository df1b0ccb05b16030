/** What `npm start` prints once the cluster is ready: where everything is, and what to try. */
import { isAbsolute, relative } from 'node:path';
import type { ConsoleOutput } from './console-output';
import type { DemoJob } from './demo-job';
import type { ServiceProcess } from './service-process';

export interface ZooKeeperInfo {
  connectString: string;
  /** Set when npm start runs it. */
  pid?: number;
  dataDir?: string;
  logFile?: string;
}

export interface SummaryInput {
  root: string;
  services: readonly ServiceProcess[];
  zooKeeper: ZooKeeperInfo;
  logDir: string;
  demo: DemoJob | undefined;
  readyAfterMs: number;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function printSummary(output: ConsoleOutput, input: SummaryInput): void {
  const { services, zooKeeper, demo } = input;
  // Relative to the repository when inside it (the default .data), else absolute.
  const path = (target: string): string => {
    const inside = relative(input.root, target);
    return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? target : inside;
  };
  const of = (app: string): ServiceProcess[] => services.filter((s) => s.spec.app === app);
  const schedulers = of('scheduler');
  const workers = of('worker');
  const registry = of('registry')[0];
  const api = schedulers[0];
  const base = api.url('');
  const pad = (label: string): string => `  ${label.padEnd(13)}`;

  const lines = [
    '',
    output.bold(
      `zk-scheduler is running: ${count(schedulers.length, 'scheduler')}, ` +
        `${count(workers.length, 'worker')}, 1 registry (ready after ${(input.readyAfterMs / 1000).toFixed(1)} s)`,
    ),
    '',
    ...(registry === undefined ? [] : [`${pad('web console')}${registry.url('/')}`]),
    `${pad('API')}${base}/v1/jobs  ${base}/v1/tasks`,
  ];
  if (schedulers.length > 1) {
    lines.push(
      `${pad('')}every scheduler serves it: ${schedulers.map((s) => s.url('')).join(', ')}`,
    );
  }
  lines.push(
    `${pad('OpenAPI docs')}${base}/docs  (document: ${base}/docs-json)`,
    `${pad('gRPC')}localhost:${api.spec.grpcPort}  (zkscheduler.scheduler.v1.SchedulerService)`,
    `${pad('health')}${base}/health/ready  ${base}/health/live`,
    `${pad('metrics')}${base}/metrics  (Prometheus; every process has /metrics)`,
  );
  if (registry !== undefined) {
    lines.push(
      `${pad('registry')}${registry.url('/v1/cluster')}  ${registry.url('/v1/audit')}  ${registry.url('/v1/events')}`,
      `${pad('')}docs ${registry.url('/docs')}, gRPC localhost:${registry.spec.grpcPort}  (zkscheduler.registry.v1.RegistryService)`,
    );
  }
  lines.push(
    zooKeeper.pid === undefined
      ? `${pad('ZooKeeper')}${zooKeeper.connectString}  (ZK_CONNECT)`
      : `${pad('ZooKeeper')}${zooKeeper.connectString}  data ${path(zooKeeper.dataDir ?? '')}, ` +
          `log ${path(zooKeeper.logFile ?? '')}`,
    `${pad('logs')}${path(input.logDir)}/<member>.log  (raw JSON lines; the console shows them readable)`,
  );
  if (demo !== undefined) {
    lines.push(
      `${pad('demo job')}${demo.id}  logs.compress every minute on ${path(demo.directory)}` +
        (demo.created ? '' : '  (created by an earlier start)'),
    );
  }

  lines.push('', '  processes (pid, HTTP, gRPC):');
  if (zooKeeper.pid !== undefined) {
    lines.push(`    zookeeper     pid ${zooKeeper.pid}  client port ${zooKeeper.connectString}`);
  }
  for (const service of services) {
    const grpc = service.spec.grpcPort === undefined ? '' : `  gRPC :${service.spec.grpcPort}`;
    lines.push(`    ${service.memberId.padEnd(13)} pid ${service.pid}  ${service.url('')}${grpc}`);
  }

  lines.push(
    '',
    '  Try:',
    `    curl -s -X POST ${base}/v1/tasks -H 'content-type: application/json' -d '{"type":"noop"}'`,
    `    curl -s ${base}/v1/tasks/<id>          # the id printed by the line above`,
    `    curl -s ${base}/v1/jobs`,
  );
  if (demo !== undefined) {
    lines.push(`    curl -s '${base}/v1/tasks?jobId=${demo.id}'   # the demo job's runs`);
  }
  lines.push(
    '',
    output.bold(
      'Ctrl-C stops everything. A process that crashes is reported; the others keep running.',
    ),
    '',
  );
  output.block(lines);
}
