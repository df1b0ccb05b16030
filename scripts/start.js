#!/usr/bin/env node
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: this file runs
   before the dependencies (and a TypeScript loader) exist. */
/**
 * `npm start`: a whole zk-scheduler cluster on this machine (see
 * local-cluster/main.ts). Plain JavaScript because it must run before the
 * dependencies exist: on a fresh clone it installs them (`npm ci`) first, then
 * loads the TypeScript orchestrator through @swc-node/register.
 */
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// @swc-node/register reads ./tsconfig.json (the @app/* path aliases) from the cwd.
process.chdir(root);

if (!existsSync(path.join(root, 'node_modules', '@swc-node', 'register'))) {
  process.stdout.write('[start] dependencies are not installed: running npm ci\n');
  // Under `npm start`, npm_execpath is the npm that runs us: use the same one.
  const npmCli = process.env.npm_execpath;
  const [command, args] =
    npmCli && /\.c?js$/.test(npmCli)
      ? [process.execPath, [npmCli, 'ci', '--no-audit', '--no-fund']]
      : ['npm', ['ci', '--no-audit', '--no-fund']];
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    const why = result.error ? result.error.message : `exit code ${result.status ?? result.signal}`;
    process.stderr.write(`[start] npm ci failed (${why}); fix that and run npm start again\n`);
    process.exit(1);
  }
}

require('@swc-node/register');
require('./local-cluster/main.ts').main(process.argv.slice(2));
