/** The instants a job fires at: a cron schedule, or a single `runAt`. */
export interface FireSchedule {
  /** The first instant strictly after `after`, or null when there is none. */
  next(after: number): number | null;
  /** Instants in (fromExclusive, toInclusive], ascending, the earliest `limit` of them. */
  between(
    fromExclusive: number,
    toInclusive: number,
    limit: number,
  ): { instants: number[]; truncated: boolean };
}

/** A one-off job: it fires once, at `runAt`. */
export class OneOffSchedule implements FireSchedule {
  constructor(private readonly runAt: number) {}

  next(after: number): number | null {
    return this.runAt > after ? this.runAt : null;
  }

  between(
    fromExclusive: number,
    toInclusive: number,
    limit: number,
  ): { instants: number[]; truncated: boolean } {
    const inside = this.runAt > fromExclusive && this.runAt <= toInclusive && limit > 0;
    return { instants: inside ? [this.runAt] : [], truncated: false };
  }
}
