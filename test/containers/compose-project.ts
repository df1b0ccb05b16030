/**
 * One docker-compose project of the smoke test: its files, its name, the
 * variables it is given (base images, published ports, secrets folder), and
 * what the test does to its containers (kill, stop, start, exec). The test
 * runs docker-compose and docker as a user would; it reaches the services only
 * through their ports published on 127.0.0.1.
 */
import { timing } from '@app/zk/testing';
import { mustRun, runCommand, type CommandResult } from './command';

export interface ComposeProjectOptions {
  /** `docker-compose -p`: containers, network and volumes are named after it. */
  name: string;
  files: readonly string[];
  /** `--env-file`: the base images. */
  envFile: string;
  /** More variables (they win over the env file): ports, secrets folder. */
  variables: Readonly<Record<string, string>>;
  cwd: string;
}

export type HealthStatus = 'healthy' | 'unhealthy' | 'starting' | 'none' | 'stopped';

export class ComposeProject {
  private readonly containers = new Map<string, string>();
  private serviceNames: string[] | undefined;

  constructor(private readonly options: ComposeProjectOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Removes what an interrupted earlier run left, then `up -d` (which waits for healthy dependencies). */
  async up(): Promise<void> {
    this.containers.clear();
    await this.compose(['down', '--volumes', '--remove-orphans']);
    await this.compose(['up', '--detach', '--no-build']);
  }

  async down(): Promise<void> {
    await this.compose(['down', '--volumes', '--remove-orphans', '--timeout', '30']);
  }

  /** The services the files define. */
  async services(): Promise<string[]> {
    this.serviceNames ??= (await this.compose(['config', '--services']))
      .split('\n')
      .filter(Boolean);
    return this.serviceNames;
  }

  /** The service's container (the same one across stop and start; looked up once). */
  async containerOf(service: string): Promise<string> {
    let id = this.containers.get(service);
    if (id === undefined) {
      id = (await this.compose(['ps', '--all', '-q', service])).trim();
      if (!id) throw new Error(`${this.name}: no container for ${service}`);
      this.containers.set(service, id);
    }
    return id;
  }

  /** Each service's health (`stopped` when its container does not run). */
  async health(): Promise<Map<string, HealthStatus>> {
    const ids = (
      await mustRun('docker', [
        'ps',
        '--all',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${this.name}`,
      ])
    )
      .split('\n')
      .filter(Boolean);
    const statuses = new Map<string, HealthStatus>();
    if (ids.length === 0) return statuses;
    const format =
      '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} ' +
      '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}';
    const lines = await mustRun('docker', ['inspect', '--format', format, ...ids]);
    for (const line of lines.split('\n').filter(Boolean)) {
      const [service, state, health] = line.split(' ');
      statuses.set(service, state === 'running' ? (health as HealthStatus) : 'stopped');
    }
    return statuses;
  }

  /**
   * Until every listed service (default: all) is healthy. One that turns
   * unhealthy or stops fails the wait at once, with the end of its log.
   */
  async waitHealthy(services?: readonly string[], timeoutMs = 180_000): Promise<void> {
    const wanted = services ?? (await this.services());
    let last = new Map<string, HealthStatus>();
    const notHealthy = () => wanted.filter((s) => last.get(s) !== 'healthy');
    const broken = await timing.waitFor(
      async () => {
        last = await this.health();
        const failed = wanted.filter((s) => ['unhealthy', 'stopped'].includes(last.get(s) ?? ''));
        if (failed.length > 0) return failed;
        return notHealthy().length === 0 ? [] : undefined;
      },
      {
        timeoutMs,
        intervalMs: 1_000,
        message: async () =>
          `not healthy: ${notHealthy()
            .map((s) => `${s} (${last.get(s) ?? 'missing'})`)
            .join(', ')}\n${await this.logs(notHealthy(), 20)}`,
      },
    );
    if (broken.length > 0) {
      throw new Error(
        `${broken.map((s) => `${s} is ${last.get(s)}`).join(', ')}\n${await this.logs(broken, 30)}`,
      );
    }
  }

  /** `docker kill` (SIGKILL): the container's processes die at once, like a crashed machine's. */
  async kill(service: string): Promise<void> {
    await mustRun('docker', ['kill', await this.containerOf(service)]);
  }

  /** `docker-compose stop`: SIGTERM, then SIGKILL after the grace period. */
  async stop(service: string): Promise<void> {
    await this.compose(['stop', service]);
  }

  async start(service: string): Promise<void> {
    await this.compose(['start', service]);
  }

  /** A command inside a service's container (`docker exec`: quicker than docker-compose's). */
  async exec(service: string, argv: readonly string[]): Promise<CommandResult> {
    return runCommand('docker', ['exec', await this.containerOf(service), ...argv]);
  }

  /** The last lines of the services' logs, for a failure message. */
  async logs(services: readonly string[], lines: number): Promise<string> {
    if (services.length === 0) return '';
    const result = await runCommand(
      'docker-compose',
      [...this.globalArgs(), 'logs', '--no-color', '--tail', String(lines), ...services],
      { env: this.env(), cwd: this.options.cwd },
    );
    return result.stdout.trimEnd();
  }

  /** docker-compose's own output is shown only when it fails. */
  private async compose(args: readonly string[]): Promise<string> {
    return mustRun('docker-compose', [...this.globalArgs(), ...args], {
      env: this.env(),
      cwd: this.options.cwd,
    });
  }

  private globalArgs(): string[] {
    return [
      '--project-name',
      this.options.name,
      '--env-file',
      this.options.envFile,
      ...this.options.files.flatMap((file) => ['--file', file]),
    ];
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.options.variables };
  }
}
