/**
 * `npm run test:containers`: the images built (scripts/containers/build-local.sh:
 * local bases when missing, then the project's image), then each compose
 * variant brought up, driven as a user would (smoke-scenario.ts), and taken
 * down with its volumes:
 *
 *   plain    docker-compose.yml
 *   secure   + docker-compose.secure.yml (API tokens, ZooKeeper ACLs, TLS;
 *            secrets from scripts/make-secrets.sh in a temp folder)
 *
 * Starts the Docker engine when it is not running, and stops it at the end.
 * The services are reached only through ports published on 127.0.0.1 (free
 * ones, so that nothing else on the machine is in the way).
 *
 *   npm run test:containers [-- --variant plain|secure] [--keep]
 *
 * Exits 1 when anything fails.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts, LOOPBACK } from '@app/zk/testing';
import { mustRun } from './command';
import { ComposeProject } from './compose-project';
import { DockerEngine } from './docker-engine';
import { Report, StepFailedError, type VariantOutcome } from './report';
import { runSmoke } from './smoke-scenario';
import { ZksUser } from './zks-user';

const ROOT = join(__dirname, '..', '..');
const LOCAL_BASES = 'scripts/containers/local-bases.env';

interface Variant {
  name: 'plain' | 'secure';
  files: string[];
}

const VARIANTS: Variant[] = [
  { name: 'plain', files: ['docker-compose.yml'] },
  { name: 'secure', files: ['docker-compose.yml', 'docker-compose.secure.yml'] },
];

const USAGE =
  'usage: npm run test:containers [-- --variant plain|secure] [--keep]\n' +
  '  --variant V  only this compose variant (repeatable; default: both)\n' +
  '  --keep       leave a failed variant running for inspection (docker-compose -p zks-smoke-<V>)';

/** What the run must undo when it ends, also on Ctrl-C or SIGTERM. */
const cleanups: (() => Promise<void>)[] = [];

async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    await cleanups.pop()!().catch((error: unknown) =>
      console.error(`clean-up failed: ${(error as Error).message}`),
    );
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      variant: { type: 'string', multiple: true },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const chosen = values.variant ?? VARIANTS.map((v) => v.name);
  const unknown = chosen.filter((name) => !VARIANTS.some((v) => v.name === name));
  if (unknown.length > 0) throw new Error(`unknown --variant ${unknown.join(', ')}\n${USAGE}`);
  const variants = VARIANTS.filter((v) => chosen.includes(v.name));

  const report = new Report();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      report.line(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    const engine = new DockerEngine();
    await report.step('Docker engine', async () => {
      await engine.start();
      report.detail(engine.startedHere ? `started dockerd (pid ${engine.pid})` : 'already running');
    });
    cleanups.push(async () => {
      if (!engine.startedHere) return;
      await engine.close();
      report.line(`stopped dockerd (pid ${engine.pid})`);
    });
    await report.step('images (scripts/containers/build-local.sh)', () =>
      mustRun(join(ROOT, 'scripts/containers/build-local.sh'), [], {
        cwd: ROOT,
        onLine: (line) => report.detail(line),
      }),
    );
    for (const variant of variants) {
      report.outcomes.push(await runVariant(variant, report, values.keep ?? false));
    }
  } catch (error: unknown) {
    report.line(`FAILED: ${(error as Error).message}`);
  } finally {
    await cleanUp();
  }
  report.printSummary(variants.length);
  const passed = report.outcomes.filter((outcome) => outcome.ok).length;
  return passed === variants.length ? 0 : 1;
}

async function runVariant(
  variant: Variant,
  report: Report,
  keep: boolean,
): Promise<VariantOutcome> {
  const startedAt = Date.now();
  const figures = new Map<string, string>();
  const secure = variant.name === 'secure';
  const secretsDir = secure ? mkdtempSync(join(tmpdir(), 'zks-compose-secrets-')) : undefined;
  const [scheduler1, scheduler1Grpc, scheduler2, scheduler2Grpc, registry, registryGrpc] =
    await freePorts(6);
  const project = new ComposeProject({
    name: `zks-smoke-${variant.name}`,
    files: variant.files,
    envFile: LOCAL_BASES,
    variables: {
      ZKS_PUBLISH_SCHEDULER_1_HTTP: String(scheduler1),
      ZKS_PUBLISH_SCHEDULER_1_GRPC: String(scheduler1Grpc),
      ZKS_PUBLISH_SCHEDULER_2_HTTP: String(scheduler2),
      ZKS_PUBLISH_SCHEDULER_2_GRPC: String(scheduler2Grpc),
      ZKS_PUBLISH_REGISTRY_HTTP: String(registry),
      ZKS_PUBLISH_REGISTRY_GRPC: String(registryGrpc),
      ...(secretsDir ? { ZKS_SECRETS_DIR: secretsDir } : {}),
    },
    cwd: ROOT,
  });
  let failure: string | undefined;
  const takeDown = async () => {
    await report.step(`${variant.name}: docker-compose down -v`, () => project.down());
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
  };
  cleanups.push(takeDown);
  report.line(`---- ${variant.name}: ${variant.files.join(' + ')} (project ${project.name}) ----`);
  try {
    let token: string | undefined;
    if (secretsDir) {
      await report.step('secrets (scripts/make-secrets.sh)', () =>
        mustRun(join(ROOT, 'scripts/make-secrets.sh'), [secretsDir]),
      );
      token = adminToken(secretsDir);
    }
    const scheme = secure ? 'https' : 'http';
    const url = (port: number) => `${scheme}://${LOOPBACK}:${port}`;
    const user = new ZksUser({
      schedulers: new Map([
        ['scheduler-1', url(scheduler1)],
        ['scheduler-2', url(scheduler2)],
      ]),
      registry: url(registry),
      token,
      caFile: secretsDir ? join(secretsDir, 'tls_cert.pem') : undefined,
    });
    await runSmoke({ project, user, report, secure, figures });
  } catch (error: unknown) {
    failure = error instanceof StepFailedError ? error.message : String(error);
  }
  cleanups.splice(cleanups.indexOf(takeDown), 1);
  if (failure && keep) {
    report.line(`kept for inspection: docker-compose -p ${project.name} ps (then down -v)`);
  } else {
    await takeDown().catch((error: unknown) => {
      failure ??= `docker-compose down -v: ${(error as Error).message}`;
    });
  }
  return {
    variant: variant.name,
    ok: !failure,
    durationMs: Date.now() - startedAt,
    failure,
    figures,
  };
}

/** The token of the `admin` role that make-secrets.sh wrote. */
function adminToken(secretsDir: string): string {
  const tokens = JSON.parse(readFileSync(join(secretsDir, 'api_tokens.json'), 'utf8')) as {
    role: string;
    token: string;
  }[];
  const admin = tokens.find((entry) => entry.role === 'admin');
  if (!admin) throw new Error(`no admin token in ${secretsDir}/api_tokens.json`);
  return admin.token;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
