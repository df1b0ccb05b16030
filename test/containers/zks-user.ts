/**
 * A user of the containerised cluster: the `zks` command-line client, pointed
 * at ports published on 127.0.0.1, with a token and the cluster's CA when the
 * cluster is locked down. Each call is one `zks` process, as typed in a shell.
 */
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { jsonOf, runZks, type ZksRun } from '../../apps/cli/test/support/run-zks';

export interface ClusterAccess {
  /** Base URLs of the schedulers' published HTTP ports, by member id. */
  schedulers: ReadonlyMap<string, string>;
  registry: string;
  token?: string;
  /** PEM file of the CA that signed the services' certificate (HTTPS). */
  caFile?: string;
}

export class ZksUser {
  private scheduler: string;

  constructor(private readonly access: ClusterAccess) {
    this.scheduler = [...access.schedulers.keys()][0];
  }

  /** Sends the scheduler commands to this replica from now on (e.g. when the other is down). */
  useScheduler(memberId: string): void {
    if (!this.access.schedulers.has(memberId)) throw new Error(`no published port for ${memberId}`);
    this.scheduler = memberId;
  }

  /** `zks <args>`, whatever its exit code. */
  run(args: readonly string[], options: { token?: string | null } = {}): Promise<ZksRun> {
    const token = options.token === undefined ? this.access.token : options.token;
    return runZks(args, {
      ZKS_URL: this.access.schedulers.get(this.scheduler)!,
      ZKS_REGISTRY_URL: this.access.registry,
      ...(token ? { ZKS_TOKEN: token } : {}),
      ...(this.access.caFile ? { NODE_EXTRA_CA_CERTS: this.access.caFile } : {}),
    });
  }

  /** `zks <args>`; any exit code but 0 throws with what zks said. */
  async must(args: readonly string[]): Promise<ZksRun> {
    const result = await this.run(args);
    if (result.code !== 0) {
      throw new Error(`zks ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result;
  }

  /** `zks --json <args>`: its answer; any exit code but 0 throws with what zks said. */
  async json<T>(args: readonly string[]): Promise<T> {
    return jsonOf<T>(await this.must(['--json', ...args]));
  }

  /** GET a path of the registry as the web console does (its origin), with the token. */
  registryGet(path: string): Promise<{ status: number; body: string }> {
    const url = new URL(path, this.access.registry);
    const send = url.protocol === 'https:' ? httpsGet : httpGet;
    const options = {
      headers: this.access.token ? { authorization: `Bearer ${this.access.token}` } : {},
      ...(this.access.caFile ? { ca: readFileSync(this.access.caFile) } : {}),
    };
    return new Promise((resolve, reject) => {
      const request = send(url, options, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.setTimeout(10_000, () => request.destroy(new Error(`GET ${url} timed out`)));
    });
  }
}
