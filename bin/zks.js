#!/usr/bin/env node
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: this file runs
   as is, before (or without) any build. */
/**
 * `zks`, the command-line client (apps/cli). Runs the compiled CLI when
 * `npm run build` has made it, else the TypeScript sources through
 * @swc-node/register (a clean clone after `npm ci` needs no build step).
 * ZKS_CLI_FROM_SOURCE=1 forces the sources (e.g. while editing them).
 */
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const compiled = path.join(root, 'dist', 'apps', 'cli', 'apps', 'cli', 'src', 'main.js');

let entry = compiled;
if (process.env.ZKS_CLI_FROM_SOURCE === '1' || !existsSync(compiled)) {
  // The loader reads the @app/* path aliases from this tsconfig, wherever zks is run from.
  process.env.SWC_NODE_PROJECT ??= path.join(root, 'tsconfig.json');
  require('@swc-node/register');
  entry = path.join(root, 'apps', 'cli', 'src', 'main.ts');
}

// `zks … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
