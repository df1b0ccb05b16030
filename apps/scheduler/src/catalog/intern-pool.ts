/**
 * Reference-counted string interning: jobs that share a schedule, a time zone
 * or a task template share one string, and a string no job uses is dropped.
 */
export class InternPool {
  private readonly strings = new Map<string, { value: string; uses: number }>();

  /** The pooled instance equal to `value` (counts one more use). */
  take(value: string): string {
    const pooled = this.strings.get(value);
    if (pooled) {
      pooled.uses++;
      return pooled.value;
    }
    this.strings.set(value, { value, uses: 1 });
    return value;
  }

  /** One use fewer of `value` (a string taken earlier). */
  release(value: string | undefined): void {
    if (value === undefined) return;
    const pooled = this.strings.get(value);
    if (pooled && --pooled.uses === 0) this.strings.delete(value);
  }

  get size(): number {
    return this.strings.size;
  }
}
