import { readFileSync } from 'node:fs';
import type { ConfigProblem, Environment } from './load-app-config';

/** Secrets that may also come from a file named by `<NAME>_FILE` (container secrets). */
export const FILE_SECRETS = ['DATABASE_URL', 'ZK_AUTH', 'API_TOKEN', 'WEBHOOK_SECRET_KEY'] as const;

/**
 * `env` with each unset secret of FILE_SECRETS read from the file its
 * `<NAME>_FILE` names (content trimmed). A set variable wins over its file.
 * An empty file is a problem, not "unset". Problems name the `_FILE` variable
 * and the path, never the content.
 */
export function withFileSecrets(env: Environment): {
  env: Environment;
  problems: ConfigProblem[];
} {
  const resolved: Record<string, string | undefined> = { ...env };
  const problems: ConfigProblem[] = [];
  for (const name of FILE_SECRETS) {
    const file = env[`${name}_FILE`]?.trim();
    if (!file || env[name]?.trim()) continue;
    try {
      const content = readFileSync(file, 'utf8').trim();
      // An empty file must not read as "unset": that would switch protection off.
      if (content === '') {
        problems.push({
          variable: `${name}_FILE`,
          message: `${name}_FILE names an empty file (${file}): write the secret into it, or unset ${name}_FILE`,
        });
      }
      resolved[name] = content;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      problems.push({
        variable: `${name}_FILE`,
        message: `${name}_FILE cannot be read (${code}: ${file})`,
      });
    }
  }
  return { env: resolved, problems };
}
