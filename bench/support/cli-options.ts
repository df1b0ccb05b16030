/**
 * Benchmark sizes from the command line or the environment: `--tasks 20000`,
 * `--tasks=20000` or `BENCH_TASKS=20000` (the flag wins). Anything unknown
 * stops the run with a message naming it, so a typo never measures the default.
 */
export interface OptionSpec {
  /** Flag name without dashes, e.g. `tasks`; the variable is BENCH_<NAME> (dashes → _). */
  name: string;
  help: string;
  fallback: number;
  min?: number;
}

export type Options<K extends string> = Record<K, number>;

export function parseOptions<K extends string>(
  specs: ReadonlyArray<OptionSpec & { name: K }>,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Options<K> {
  const known = new Set<string>(specs.map((spec) => spec.name));
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(usage(specs));
      process.exit(0);
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!match || !known.has(match[1]))
      throw new Error(`unknown argument "${arg}"\n${usage(specs)}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value`);
    given.set(match[1], value);
  }
  const options = {} as Options<K>;
  for (const spec of specs) {
    const variable = envName(spec.name);
    const raw = given.get(spec.name) ?? env[variable];
    const value = raw === undefined || raw.trim() === '' ? spec.fallback : Number(raw);
    if (!Number.isFinite(value) || value < (spec.min ?? 0)) {
      throw new Error(
        `--${spec.name} / ${variable} must be a number ≥ ${spec.min ?? 0} (got "${raw}")`,
      );
    }
    options[spec.name] = value;
  }
  return options;
}

/** A comma-separated list of numbers (`--session-timeouts 2000,10000`). */
export function parseList(raw: string | undefined, fallback: readonly number[]): number[] {
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.some((value) => !Number.isFinite(value) || value <= 0)) {
    throw new Error(`"${raw}" is not a comma-separated list of positive numbers`);
  }
  return values;
}

function envName(name: string): string {
  return `BENCH_${name.toUpperCase().replace(/-/g, '_')}`;
}

function usage(specs: readonly OptionSpec[]): string {
  const width = Math.max(...specs.map((spec) => spec.name.length));
  return [
    'options (flag, or the BENCH_… variable):',
    ...specs.map(
      (spec) =>
        `  --${spec.name.padEnd(width)}  ${spec.help} (default ${spec.fallback}; ${envName(spec.name)})`,
    ),
    '',
  ].join('\n');
}
