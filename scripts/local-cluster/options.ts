/** The command line of `npm start -- …`. */
import { parseArgs } from 'node:util';

export interface StartOptions {
  schedulers: number;
  workers: number;
  demo: boolean;
  help: boolean;
}

/** Ports go base + 10 × index: more replicas than this would run into other services' ranges. */
export const MAX_REPLICAS = 20;

export const USAGE = `usage: npm start -- [--schedulers N] [--workers N] [--no-demo]

  --schedulers N   scheduler replicas, 1-${MAX_REPLICAS} (default 2): HTTP 3000, 3010, …; gRPC 50051, 50061, …
  --workers N      worker replicas, 0-${MAX_REPLICAS} (default 2): HTTP 3002, 3012, …
  --no-demo        do not create the demo job (logs.compress every minute on .data/demo-logs)
  --help           this text

Environment: ZK_CONNECT (use that ZooKeeper instead of starting one), ZKS_DATA_DIR
(default .data), ZKS_ZK_PORT (2181), ZKS_SCHEDULER_HTTP_PORT (3000),
ZKS_SCHEDULER_GRPC_PORT (50051), ZKS_REGISTRY_HTTP_PORT (3001), ZKS_REGISTRY_GRPC_PORT (50052),
ZKS_WORKER_HTTP_PORT (3002);
every service variable (README, Configuration) is passed on to the services.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function count(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > MAX_REPLICAS) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${MAX_REPLICAS} (got "${raw}")`,
    );
  }
  return Number(raw);
}

export function parseStartOptions(argv: readonly string[]): StartOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        schedulers: { type: 'string' },
        workers: { type: 'string' },
        'no-demo': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error: unknown) {
    throw new UsageError((error as Error).message);
  }
  return {
    schedulers: count('schedulers', values.schedulers, 2, 1),
    workers: count('workers', values.workers, 2, 0),
    demo: !values['no-demo'],
    help: values.help ?? false,
  };
}
