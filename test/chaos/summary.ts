import type { CheckCounts, CheckResult } from './checks';
import type { FaultKind, FaultRecord } from './faults';

export interface RunSummary {
  seed: number;
  minutes: number;
  ok: boolean;
  durationS: number;
  faults: Record<string, number>;
  counts: CheckCounts & {
    submitted: number;
    apiErrors: number;
    unexpectedExits: number;
    failedStarts: number;
  };
  failoverMs: { count: number; min?: number; median?: number; max?: number };
  /** Fault kinds injected 0 times (a run cut short, or a kind that could not find a target). */
  neverRan: string[];
  failed: string[];
}

export function summarize(
  base: Pick<RunSummary, 'seed' | 'minutes' | 'durationS'>,
  faults: readonly FaultRecord[],
  /** The kinds this run could inject (all, or the cut-off faults only). */
  kinds: readonly FaultKind[],
  counts: RunSummary['counts'],
  checks: readonly CheckResult[],
): RunSummary {
  const byKind: Record<string, number> = {};
  for (const kind of kinds) byKind[kind] = faults.filter((f) => f.kind === kind).length;
  const failovers = faults
    .map((f) => f.failoverMs)
    .filter((ms): ms is number => ms !== undefined)
    .sort((a, b) => a - b);
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  return {
    ...base,
    ok: failed.length === 0,
    faults: byKind,
    counts,
    failoverMs: {
      count: failovers.length,
      min: failovers[0],
      median:
        failovers.length === 0 ? undefined : failovers[Math.floor((failovers.length - 1) / 2)],
      max: failovers.at(-1),
    },
    neverRan: kinds.filter((kind) => byKind[kind] === 0),
    failed,
  };
}

/** The human-readable end of a run: checks, then one table of figures, then the JSON line. */
export function printSummary(summary: RunSummary, checks: readonly CheckResult[]): void {
  console.log('\n=== chaos checks ===');
  for (const check of checks) {
    console.log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}`);
    for (const problem of check.problems) console.log(`       - ${problem}`);
  }
  const { counts, failoverMs } = summary;
  const rows: Record<string, string | number> = {};
  for (const [kind, n] of Object.entries(summary.faults)) rows[`fault: ${kind}`] = n;
  Object.assign(rows, {
    'tasks (one-off + fired)': counts.tasks,
    'gang tasks': counts.gangs,
    'cron fires': counts.fires,
    'cron instants skipped by policy': counts.skipped,
    retries: counts.retries,
    reassignments: counts.reassignments,
    'results of fenced attempts (refused)': counts.fencedResults,
    'API calls failed (retried)': counts.apiErrors,
    'unexpected process exits': counts.unexpectedExits,
    'restarts refused (no ZooKeeper yet), retried': counts.failedStarts,
    'LOST (must be 0)': counts.lost,
    'DUPLICATED (must be 0)': counts.duplicated,
    'STALE WRITES (must be 0)': counts.stale,
    'OVERLAPPING ATTEMPTS (must be 0)': counts.overlapping,
    'failover ms (min / median / max)':
      failoverMs.count === 0
        ? 'n/a'
        : `${failoverMs.min} / ${failoverMs.median} / ${failoverMs.max} (${failoverMs.count})`,
  });
  console.log(
    `\n=== chaos summary: seed ${summary.seed}, ${summary.minutes} min, ${summary.durationS} s, ${summary.ok ? 'PASS' : 'FAIL'} ===`,
  );
  console.table(Object.entries(rows).map(([what, value]) => ({ what, value })));
  console.log(
    `fault kinds that never ran: ${summary.neverRan.length === 0 ? 'none' : summary.neverRan.join(', ')}`,
  );
  console.log(`CHAOS_SUMMARY ${JSON.stringify(summary)}`);
}
