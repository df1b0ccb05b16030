/**
 * A latch a loop sleeps on: `signal()` before `wait()` is not lost (the next
 * wait returns at once). `wait` resolves on a signal or after `timeoutMs`.
 */
export class Wakeup {
  private signalled = false;
  private waiter: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  readonly signal = (): void => {
    this.signalled = true;
    this.release();
  };

  wait(timeoutMs?: number): Promise<void> {
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiter = () => {
        this.signalled = false;
        resolve();
      };
      if (timeoutMs !== undefined) this.timer = setTimeout(() => this.release(), timeoutMs);
    });
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
