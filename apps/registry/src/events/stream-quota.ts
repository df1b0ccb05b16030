/**
 * Live streams held open per caller (a token's name; without tokens, the
 * client's address): each stream polls PostgreSQL and holds a socket, so one
 * caller may not open an unbounded number of them.
 */
export class StreamQuota {
  private readonly open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a stream for `caller`: a release function, or undefined when it holds the most already. */
  take(caller: string): (() => void) | undefined {
    const held = this.open.get(caller) ?? 0;
    if (held >= this.max) return undefined;
    this.open.set(caller, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.open.get(caller) ?? 1) - 1;
      if (now === 0) this.open.delete(caller);
      else this.open.set(caller, now);
    };
  }
}
