import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleOutput } from './console-output';

/**
 * The web console's files (`dist/console`), built when missing: a fresh clone
 * has no dist/, and the registry serves the console from there. A second or
 * two (esbuild); a failure is reported and the cluster starts anyway (the
 * registry then says at `/` how to build it).
 */
export function ensureConsoleBuilt(root: string, output: ConsoleOutput): void {
  if (existsSync(join(root, 'dist', 'console', 'index.html'))) return;
  output.info('building the web console (dist/console)', 'dim');
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-console.mjs')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (built.status !== 0) {
    output.info(
      `the web console could not be built (${built.stderr.trim() || `exit ${built.status}`}); run npm run build:console`,
      'warn',
    );
  }
}
