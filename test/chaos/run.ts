/**
 * The chaos suite: the whole cluster as real processes, a seeded workload and
 * seeded faults, then the invariant checks (checks.ts) and a summary.
 *
 *   npm run test:chaos                      # short form (~3 min, CI)
 *   npm run test:chaos -- --minutes 20      # long form
 *   npm run test:chaos -- --seed 1234       # replay a run's choices
 *   npm run test:chaos -- --only-cuts       # partitions only (CI's second run)
 *
 * How to run and read long runs: docs/chaos.md.
 *
 * Exits 1 when a check fails (or the run itself breaks), 0 otherwise.
 */
import { timing } from '@app/zk/testing';
import { ZkLayout } from '@app/contracts';
import { readAudit } from '../../apps/registry/test/support/audit-validator';
import { ChaosCluster } from './chaos-cluster';
import { runChecks } from './checks';
import { readExecutionLogs } from './execution-log';
import { CUT_FAULT_KINDS, FAULT_KINDS, FaultInjector } from './faults';
import { parseChaosOptions, type ChaosOptions } from './options';
import { REGRESSION_SEEDS } from './regressions';
import { Rng } from '../support/rng';
import { printSummary, summarize } from './summary';
import { Workload } from './workload';
import { NotificationWatch } from './notifications';
import { subtreePaths } from '../support/znodes';
import { sameCounts, znodeCounts } from './zk-state';

const started = Date.now();
const log = (line: string): void => {
  console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
};

async function main(): Promise<number> {
  const options = parseChaosOptions(process.argv.slice(2));
  if (!options.regressions) return runOnce(options);
  let failures = 0;
  for (const regression of REGRESSION_SEEDS) {
    log(`regression seed ${regression.seed}: ${regression.found}`);
    const code = await runOnce({ ...options, seed: regression.seed, minutes: regression.minutes });
    if (code !== 0) failures++;
  }
  return failures === 0 ? 0 : 1;
}

async function runOnce(options: ChaosOptions): Promise<number> {
  log(
    `seed ${options.seed}, fault window ${options.minutes} min ` +
      `(replay: ${replayCommand(options)})`,
  );
  const rng = new Rng(options.seed);
  const workloadRng = rng.fork();
  const faultRng = rng.fork();
  const notificationRng = rng.fork();
  const cluster = new ChaosCluster();
  let notifications: NotificationWatch | undefined;
  let keep = options.keep;
  try {
    await cluster.start(log);
    await cluster.leaderSlot(60_000);
    await cluster.drainerSlot(60_000);
    const zk = await cluster.local.zk();
    // The baseline is a drained outbox: an event of the start-up still waiting in it
    // would make the end (drained) differ from the start.
    let baseline = await znodeCounts(zk);
    await timing
      .waitFor(
        async () => {
          baseline = await znodeCounts(zk);
          return baseline['/audit/outbox'] === 1;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      )
      .catch(() => log('the outbox not drained before the workload: baseline taken anyway'));
    notifications = await NotificationWatch.start(cluster, notificationRng);

    const workload = new Workload(cluster, workloadRng, String(options.seed));
    await workload.createJobs();
    workload.start();
    log(`workload running: ${workload.jobs.length} cron jobs every second, one-off and gang tasks`);

    const kinds = options.onlyCuts ? CUT_FAULT_KINDS : FAULT_KINDS;
    const faults = new FaultInjector(cluster, faultRng, log, kinds);
    await faults.run(Date.now() + options.minutes * 60_000);
    log(`faults over (${faults.injected.length}); waiting for every process and server to be back`);
    await faults.finish();
    await cluster.zookeeper.waitForQuorum({ timeoutMs: 60_000 });
    await cluster.allUp();
    await workload.stop();
    await workload.settle();
    await timing.sleep(5_000); // the jobs fire in a whole cluster again before their window ends
    await workload.deleteJobs();
    log('workload stopped, jobs deleted; waiting for quiescence');

    // Quiescence: every task finished and retired, the outbox drained, the znodes back to baseline.
    let final = await znodeCounts(zk);
    await timing
      .waitFor(
        async () => {
          final = await znodeCounts(zk);
          return (
            (final['/tasks'] ?? 0) === 0 &&
            (final['/audit/outbox'] ?? 1) === 1 &&
            sameCounts(final, baseline)
          );
        },
        { timeoutMs: 120_000, intervalMs: 1_000 },
      )
      .catch(async () => {
        log('not quiescent after 120 s: checking anyway');
        for (const branch of Object.keys({ ...baseline, ...final })) {
          if ((final[branch] ?? 0) === (baseline[branch] ?? 0) || branch === '/tasks') continue;
          log(`  ${branch} now holds: ${(await subtreePaths(zk, branch)).join(', ')}`);
        }
      });
    const leftTasks = (await zk.children(ZkLayout.tasks)).children.length;
    const leftOutbox = (await zk.children(ZkLayout.outbox)).children.length;
    log(`quiescent: ${leftTasks} tasks, ${leftOutbox} outbox nodes left`);

    const stuck = await Promise.all(
      (await zk.children(ZkLayout.tasks)).children.map(async (id) => cluster.local.task(id)),
    );
    let audit = await readAudit(cluster.databaseUrl);
    await notifications.settle(audit.rows);
    audit = await readAudit(cluster.databaseUrl);
    const execLogs = readExecutionLogs(cluster.execLogDir);
    const crashes = cluster.slots.flatMap((slot) => [
      ...(slot.gaveUp ? [slot.gaveUp] : []),
      ...slot.unexpectedExits.map(
        (exit) =>
          `${slot.id} exited by itself at +${((exit.at - started) / 1000).toFixed(1)}s (code ${exit.code}, signal ${exit.signal})`,
      ),
    ]);
    const { counts, checks } = runChecks({
      audit,
      execLogs,
      jobs: workload.jobs,
      submitted: [...workload.tasks.keys()],
      znodes: { baseline, final },
      leftInZk: { tasks: leftTasks, outbox: leftOutbox },
      stuck: stuck.filter((t) => t !== undefined),
      crashes,
      faultProblems: faults.problems,
      processes: cluster.timeline,
    });
    checks.push(notifications.check(audit.rows));
    const summary = summarize(
      {
        seed: options.seed,
        minutes: options.minutes,
        durationS: Math.round((Date.now() - started) / 1000),
      },
      faults.injected,
      kinds,
      {
        ...counts,
        submitted: workload.stats.submitted,
        apiErrors: workload.stats.apiErrors,
        unexpectedExits: crashes.length,
        failedStarts: cluster.slots.reduce((sum, slot) => sum + slot.failedStarts, 0),
        ...notifications.counts,
      },
      checks,
    );
    printSummary(summary, checks);
    if (!summary.ok) log(`FAILED; replay with: ${replayCommand(options)}`);
    keep = options.keep || !summary.ok;
    if (keep) log(`process output and execution logs kept in ${cluster.outputDir}`);
    return summary.ok ? 0 : 1;
  } catch (error) {
    // A run that broke is the one whose logs matter most.
    keep = true;
    log(`the run broke; process output and execution logs kept in ${cluster.outputDir}`);
    throw error;
  } finally {
    await notifications?.close();
    await cluster.close(keep);
  }
}

function replayCommand(options: ChaosOptions): string {
  const cuts = options.onlyCuts ? ' --only-cuts' : '';
  return `npm run test:chaos -- --seed ${options.seed} --minutes ${options.minutes}${cuts}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `[chaos] the run broke: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
