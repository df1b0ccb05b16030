// Loaded with `NODE_OPTIONS=--require …` into a service when a benchmark runs
// with `--profile 1` (Node 20 refuses `--cpu-prof` in NODE_OPTIONS, and a
// profile of the whole life would be mostly start-up): SIGWINCH starts a V8 CPU
// profile, the next SIGWINCH stops it and writes
// $BENCH_CPU_PROFILE_DIR/<member id>-<pid>-<n>.cpuprofile, then a `.done`
// marker file next to it, so the benchmark profiles exactly its measurement.
// SIGWINCH because its default action is to do nothing, and Nest's shutdown
// hooks (enableShutdownHooks() with no list) stop the service on SIGUSR2.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: it loads before any TypeScript hook */
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  let running = false;
  let count = 0;
  process.on('SIGWINCH', () => {
    if (!running) {
      running = true;
      session.post('Profiler.start');
      return;
    }
    running = false;
    session.post('Profiler.stop', (error, result) => {
      const name = `${process.env.MEMBER_ID || 'node'}-${process.pid}-${++count}`;
      if (!error) writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(result.profile));
      writeFileSync(join(dir, `${name}.done`), error ? String(error) : 'ok');
    });
  });
}
