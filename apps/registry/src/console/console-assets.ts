import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import serveStatic from 'serve-static';

/** Paths the console never shadows: the APIs, health, metrics, OpenAPI, the proxy. */
const API_PREFIXES = ['/v1/', '/health/', '/metrics', '/docs', '/api/'];

/**
 * Where `npm run build` puts the console (`dist/console`), from the working
 * directory every way of running the registry uses (the repository, `/app` in
 * the image); CONSOLE_DIR overrides it.
 */
export function consoleDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CONSOLE_DIR?.trim() || join(process.cwd(), 'dist', 'console'));
}

type Next = (error?: unknown) => void;

/**
 * Serves the console's files at the registry's root for GET and HEAD, and
 * lets every API path through. The files are built ones (hashed names are not
 * needed: index.html is never cached, the bundles are revalidated). When the
 * console was not built, `/` answers 404 with how to build it, not a bare 404.
 */
export function consoleAssets(
  directory: string,
): (request: IncomingMessage, response: ServerResponse, next: Next) => void {
  const serve = serveStatic(directory, {
    index: ['index.html'],
    fallthrough: true,
    setHeaders: (response) => response.setHeader('Cache-Control', 'no-cache'),
  });
  return (request, response, next) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    if (
      API_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix))
    ) {
      return next();
    }
    if (path === '/' && !existsSync(join(directory, 'index.html'))) {
      // 404, not 5xx: the registry is fine, the files are just not there.
      response.statusCode = 404;
      response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.end(`The console is not built (no ${directory}/index.html): run npm run build.\n`);
      return;
    }
    serve(request as Parameters<typeof serve>[0], response as Parameters<typeof serve>[1], next);
  };
}
