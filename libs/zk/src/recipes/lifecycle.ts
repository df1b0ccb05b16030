export type LifecycleState = 'latent' | 'started' | 'closed';

/** The `latent → started → closed` lifecycle every recipe follows; each step happens once. */
export class Lifecycle {
  private current: LifecycleState = 'latent';

  constructor(private readonly owner: string) {}

  get state(): LifecycleState {
    return this.current;
  }

  get isStarted(): boolean {
    return this.current === 'started';
  }

  /** Throws unless the recipe is latent: `start()` twice is a bug. */
  start(): void {
    if (this.current !== 'latent')
      throw new Error(`${this.owner}.start() called when ${this.current}`);
    this.current = 'started';
  }

  /** Returns false if already closed, so `close()` is idempotent. */
  close(): boolean {
    if (this.current === 'closed') return false;
    this.current = 'closed';
    return true;
  }
}
