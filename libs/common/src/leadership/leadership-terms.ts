import type { FencingToken, LeaderElection, StructuredLogger } from '@app/zk';

/** One leadership term: what the elected member runs until its leadership ends. */
export interface Term {
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface LeadershipTermsOptions<T extends Term> {
  election: LeaderElection;
  /** The work of a new term (not started yet). */
  begin: (token: FencingToken) => T;
  logger: StructuredLogger;
  /** What is led, for the log lines: 'the schedulers', 'the audit drain'. */
  what: string;
  /** Wait before a term whose start failed is started again, while the leadership lasts. */
  retryStartMs?: number;
}

/**
 * Runs a term per leadership of `election`: begun when elected, closed when
 * revoked (suspended or lost session, deposed) or at `close()`. Changes are
 * serialised, so a new term starts only after the old one has stopped; a term
 * whose start fails is started again while the same leadership lasts.
 *
 * A term's start may wait on ZooKeeper for as long as ZooKeeper is away (its
 * first reads wait for a connection). The end of the leadership, or `close()`,
 * does not wait behind it: it stops waiting for the start and closes the term,
 * which ends the start too. Otherwise SIGTERM would hang while ZooKeeper is
 * unreachable (chaos seed 294775684, fault 10).
 */
export class LeadershipTerms<T extends Term> {
  private term: T | undefined;
  private transitions: Promise<void> = Promise.resolve();
  /** Stops waiting for the start in progress (set while a term starts). */
  private interruptStart: (() => void) | undefined;

  constructor(private readonly options: LeadershipTermsOptions<T>) {}

  /** The running term, while this member leads. */
  get current(): T | undefined {
    return this.term;
  }

  /** Stands for election; terms follow its events. */
  async start(): Promise<void> {
    const { election, logger, what } = this.options;
    election.on('elected', (token) => this.change(() => this.beginTerm(token)));
    election.on('revoked', (reason) => {
      logger.warn(`leadership of ${what} revoked`, { reason });
      this.endCurrent();
    });
    election.on('error', (error) =>
      logger.error(`election of ${what}: error`, { error: String(error) }),
    );
    await election.start();
  }

  /** Ends the running term (its writes were refused: deposed), even while it starts. */
  endCurrent(): void {
    this.interruptStart?.();
    this.change(() => this.endTerm());
  }

  /** Leaves the election, then ends the running term (even one still starting). */
  async close(): Promise<void> {
    this.interruptStart?.();
    await this.options.election.close();
    await this.transitions;
    await this.endTerm();
  }

  private change(step: () => Promise<void>): void {
    this.transitions = this.transitions.then(step, step);
  }

  private async beginTerm(token: FencingToken): Promise<void> {
    await this.endTerm();
    const { election, logger, what } = this.options;
    if (election.token !== token) return; // already revoked again
    const term = this.options.begin(token);
    this.term = term;
    logger.log(`elected to lead ${what}`, { epoch: token.epoch, candidate: token.candidatePath });
    const interrupted = new Promise<'interrupted'>((resolve) => {
      this.interruptStart = () => resolve('interrupted');
    });
    const starting = term.start().then(() => 'started' as const);
    try {
      if ((await Promise.race([starting, interrupted])) === 'interrupted') {
        // The term is closed next (the change queued behind this one); its start ends then.
        starting.catch(() => undefined);
        logger.warn(`leading ${what}: stopped waiting for the term's start (leadership ending)`);
      }
    } catch (error) {
      if (this.term !== term || election.token !== token) return;
      logger.error(`leading ${what}: start failed; retrying`, { error: String(error) });
      setTimeout(
        () => this.change(() => this.beginTerm(token)),
        this.options.retryStartMs ?? 1_000,
      );
    } finally {
      this.interruptStart = undefined;
    }
  }

  private async endTerm(): Promise<void> {
    const term = this.term;
    this.term = undefined;
    if (!term) return;
    await term.close();
    this.options.logger.log(`stopped leading ${this.options.what}`);
  }
}
