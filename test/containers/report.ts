/**
 * The smoke test's output: a line per step with the time since the start,
 * the figures each variant measured, and the summary at the end.
 */

export interface VariantOutcome {
  variant: string;
  ok: boolean;
  durationMs: number;
  /** The step that failed, and why. */
  failure?: string;
  figures: Map<string, string>;
}

export class Report {
  private readonly startedAt = Date.now();
  readonly outcomes: VariantOutcome[] = [];

  line(text: string): void {
    const at = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    for (const part of text.split('\n')) console.log(`[containers +${at}s] ${part}`);
  }

  detail(text: string): void {
    this.line(`    ${text}`);
  }

  /** Runs one step between `==>` and `<==` lines; a failure names the step and is rethrown. */
  async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.line(`==> ${name}`);
    try {
      const value = await run();
      this.line(`<== ${name}: ok (${seconds(Date.now() - started)})`);
      return value;
    } catch (error: unknown) {
      this.line(`<== ${name}: FAILED (${seconds(Date.now() - started)})`);
      throw new StepFailedError(name, error);
    }
  }

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  /** The closing lines; the last one is the summary line. */
  printSummary(expected: number): void {
    console.log('\n=== containers ===');
    for (const outcome of this.outcomes) {
      const figures = [...outcome.figures].map(([name, value]) => `${name} ${value}`).join(', ');
      console.log(
        `${outcome.ok ? 'ok  ' : 'FAIL'} ${outcome.variant.padEnd(7)} ${seconds(outcome.durationMs).padStart(7)}  ${figures}`,
      );
      if (outcome.failure) console.log(`       ${outcome.failure.split('\n').join('\n       ')}`);
    }
    const passed = this.outcomes.filter((outcome) => outcome.ok).length;
    console.log(
      `containers: ${passed} of ${expected} compose variants passed in ${seconds(this.elapsedMs)}` +
        (passed === expected ? '' : ' — FAILED'),
    );
  }
}

export class StepFailedError extends Error {
  override readonly name = 'StepFailedError';

  constructor(
    readonly step: string,
    readonly reason: unknown,
  ) {
    super(`${step}: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
