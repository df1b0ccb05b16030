/**
 * What `npm start` reads from its own environment (the `ZKS_*` variables),
 * apart from the service variables it passes on untouched.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface BasePorts {
  zooKeeper: number;
  schedulerHttp: number;
  schedulerGrpc: number;
  registryHttp: number;
  registryGrpc: number;
  workerHttp: number;
}

export interface LocalSettings {
  /** The repository: services run from its sources. */
  root: string;
  /** ZooKeeper data, logs, demo folder. */
  dataDir: string;
  /** ZK_CONNECT: an existing ZooKeeper to use; undefined = start one here. */
  zkConnect: string | undefined;
  ports: BasePorts;
}

/** Defaults of DESIGN.md ("Running it"); replicas add 10 × index. */
const PORT_VARIABLES: Record<keyof BasePorts, [name: string, fallback: number]> = {
  zooKeeper: ['ZKS_ZK_PORT', 2181],
  schedulerHttp: ['ZKS_SCHEDULER_HTTP_PORT', 3000],
  schedulerGrpc: ['ZKS_SCHEDULER_GRPC_PORT', 50051],
  registryHttp: ['ZKS_REGISTRY_HTTP_PORT', 3001],
  registryGrpc: ['ZKS_REGISTRY_GRPC_PORT', 50052],
  workerHttp: ['ZKS_WORKER_HTTP_PORT', 3002],
};

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === '' ? undefined : raw;
}

export function readSettings(env: NodeJS.ProcessEnv, root: string): LocalSettings {
  const ports = {} as BasePorts;
  for (const [key, [name, fallback]] of Object.entries(PORT_VARIABLES)) {
    const raw = value(env, name);
    const port = raw === undefined ? fallback : Number(raw);
    if (raw !== undefined && (!/^\d+$/.test(raw) || port < 1 || port > 65535)) {
      throw new SettingsError(`${name} must be a port number from 1 to 65535 (got "${raw}")`);
    }
    ports[key as keyof BasePorts] = port;
  }
  const dataDir = value(env, 'ZKS_DATA_DIR') ?? '.data';
  return {
    root,
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(root, dataDir),
    zkConnect: value(env, 'ZK_CONNECT'),
    ports,
  };
}

/**
 * A cluster on one machine listens on loopback only (its APIs have no token),
 * logs every request, and its workers compress logs in the demo folder; each
 * one yours when set.
 */
export function localSafeDefaults(
  env: NodeJS.ProcessEnv,
  demoDirectory: string,
): NodeJS.ProcessEnv {
  const bindHost = env.BIND_HOST?.trim() || '127.0.0.1';
  const roots = env.WORKER_LOGS_ROOTS?.trim();
  return {
    // A developer's cluster shows every request on the console (few, and they tell the story).
    LOG_REQUESTS: env.LOG_REQUESTS?.trim() || 'all',
    BIND_HOST: bindHost,
    ADVERTISED_HOST: env.ADVERTISED_HOST?.trim() || bindHost,
    WORKER_LOGS_ROOTS: roots ? `${roots},${demoDirectory}` : demoDirectory,
  };
}

/**
 * Webhooks on out of the box: unless WEBHOOK_SECRET_KEY or its _FILE is set,
 * a key made once in the data folder (mode 0600) and passed on by file, so
 * that the sealed secrets of existing subscriptions still open after a restart.
 */
export function localWebhookKey(env: NodeJS.ProcessEnv, dataDir: string): NodeJS.ProcessEnv {
  if (env.WEBHOOK_SECRET_KEY?.trim() || env.WEBHOOK_SECRET_KEY_FILE?.trim()) return {};
  const file = resolve(dataDir, 'webhook-secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return { WEBHOOK_SECRET_KEY_FILE: file };
}
