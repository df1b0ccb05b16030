import { parseArgs } from 'node:util';

export interface ChaosOptions {
  /** Length of the fault window (workload + faults), in minutes. */
  minutes: number;
  seed: number;
  /** Keep the temp folders (execution logs) for inspection. */
  keep: boolean;
  /** Run the recorded regression seeds (regressions.ts) instead. */
  regressions: boolean;
  /** Inject only the faults that cut a process off ZooKeeper (the partition run). */
  onlyCuts: boolean;
}

/**
 * The short form (CI): a fault window of 1.8 min, enough for the first round
 * (every kind once) and a few more; with startup, the last PostgreSQL outage
 * and the final checks about 3 min.
 */
export const SHORT_FORM_MINUTES = 1.8;

const USAGE =
  'usage: npm run test:chaos [-- --minutes N] [--seed S] [--keep]\n' +
  `  --minutes N  length of the fault window (default ${SHORT_FORM_MINUTES}, the short form)\n` +
  '  --seed S     replay a run (the seed is printed at the start and in the summary)\n' +
  '  --keep       keep the process output and execution logs (always kept on failure)\n' +
  '  --only-cuts  inject only the faults that cut a process off ZooKeeper (partitions)\n' +
  '  --regressions  run the seeds recorded in test/chaos/regressions.ts, one after the other';

export function parseChaosOptions(argv: readonly string[]): ChaosOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
      regressions: { type: 'boolean', default: false },
      'only-cuts': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const minutes = values.minutes === undefined ? SHORT_FORM_MINUTES : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
    throw new Error(
      `--minutes must be a positive number of minutes, got "${values.minutes}"\n${USAGE}`,
    );
  }
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(`--seed must be an integer in [0, 2^32), got "${values.seed}"\n${USAGE}`);
  }
  return {
    minutes,
    seed,
    keep: values.keep ?? false,
    regressions: values.regressions ?? false,
    onlyCuts: values['only-cuts'] ?? false,
  };
}
