// Builds the web console (apps/console) into dist/console: one JavaScript
// bundle, one stylesheet and index.html, all local (no CDN), served by the
// registry at its root. Run by `npm run build`, and by `npm start` when the
// bundle is missing. esbuild: fast and dependency-free, it bundles TypeScript
// and JSX directly (the console is type-checked by `npm run typecheck`).
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'apps', 'console');
const out = path.join(root, 'dist', 'console');

await mkdir(out, { recursive: true });
await build({
  entryPoints: { console: path.join(source, 'src', 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: path.join(source, 'tsconfig.json'),
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile(path.join(source, 'src', 'index.html'), path.join(out, 'index.html'));
process.stdout.write(`console built into ${path.relative(root, out)}\n`);
